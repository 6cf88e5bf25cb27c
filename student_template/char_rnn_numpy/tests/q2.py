from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False)
def test_shapes_and_zero_biases(env, init_params):
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence, require_implemented
    from rnnlab_checks.fixtures import notebook_generator
    check_callable('init_params', init_params)
    params = init_params(8, 20, notebook_generator(env, 0))
    require_implemented('init_params(8, 20, rng)', params)
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure('init_params should return the tuple (U, W, V, b, c).')
    names = ['U', 'W', 'V', 'b', 'c']
    arrays = [check_shape(f'init_params(hidden_size=8, vocab_size=20): {n}', p, s) for n, p, s in zip(names, params, char_rnn_shapes(8, 20))]
    for name, array in zip(names[3:], arrays[3:]):
        if array.any():
            raise CheckFailure(f'init_params: the bias {name} should start at zero.')

