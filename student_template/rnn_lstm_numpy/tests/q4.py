from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False)
def test_forward_shapes_and_probabilities(init_rnn, forward_pass):
    import numpy as np
    from lab_checks import check_constant_biases, rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_probabilities, check_sequence_of_arrays, check_shape, is_sequence
    from rnnlab_checks.fixtures import one_hot_sequence
    check_callable('init_rnn', init_rnn)
    check_callable('forward_pass', forward_pass)
    params = init_rnn(50, 4)
    names = ['U', 'V', 'W', 'b_hidden', 'b_out']
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure('init_rnn should return the 5 arrays (U, V, W, b_hidden, b_out).')
    arrays = {name: check_shape(f'init_rnn(50, 4): {name}', p, shape) for name, p, shape in zip(names, params, rnn_shapes(50, 4))}
    check_constant_biases('init_rnn(50, 4)', arrays, {'b_hidden': 0, 'b_out': 0}, 'biases start at zero')
    inputs = one_hot_sequence(np.random.default_rng(0), 7, 4)
    h0 = np.zeros((50, 1))
    result = forward_pass(inputs, h0, params)
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure('forward_pass should return (outputs, hidden_states).')
    outputs, hidden_states = result
    outputs = check_sequence_of_arrays('forward_pass: outputs', outputs, 7, (4, 1))
    check_sequence_of_arrays('forward_pass: hidden_states (initial state first)', hidden_states, 8, (50, 1))
    check_probabilities('forward_pass: outputs', outputs)

