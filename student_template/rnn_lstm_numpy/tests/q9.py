from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=1, hidden=False)
def test_lstm_shapes_and_probabilities(init_lstm, lstm_forward):
    import numpy as np
    from lab_checks import check_constant_biases, lstm_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_probabilities, check_sequence_of_arrays, check_shape, is_sequence
    from rnnlab_checks.fixtures import one_hot_sequence
    check_callable('init_lstm', init_lstm)
    check_callable('lstm_forward', lstm_forward)
    params = init_lstm(50, 4)
    names = ['W_f', 'W_i', 'W_g', 'W_o', 'W_v', 'b_f', 'b_i', 'b_g', 'b_o', 'b_v']
    if not is_sequence(params) or len(params) != 10:
        raise CheckFailure(f"init_lstm should return the 10 arrays ({', '.join(names)}).")
    arrays = {name: check_shape(f'init_lstm(50, 4): {name}', p, shape) for name, p, shape in zip(names, params, lstm_shapes(50, 4))}
    check_constant_biases('init_lstm(50, 4)', arrays, {'b_f': 1, 'b_i': 0, 'b_g': 0, 'b_o': 0, 'b_v': 0}, 'the forget-gate bias starts at one, so that the cell state is kept at first; the other biases at zero')
    inputs = one_hot_sequence(np.random.default_rng(9), 7, 4)
    result = lstm_forward(inputs, np.zeros((50, 1)), np.zeros((50, 1)), params)
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure('lstm_forward should return (outputs, cache).')
    outputs = check_sequence_of_arrays('lstm_forward: outputs', result[0], 7, (4, 1))
    check_probabilities('lstm_forward: outputs', outputs)

