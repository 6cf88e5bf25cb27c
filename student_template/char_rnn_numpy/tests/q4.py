from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=1, hidden=False)
def test_forward_returns_dicts_of_steps(env, forward):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence, require_implemented
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.reference import reference_globals
    check_callable('forward', forward)
    rng = np.random.default_rng(0)
    params = random_params(rng, char_rnn_shapes(5, 4))
    with reference_globals(env, ['one_hot', 'softmax']):
        result = forward([0, 3, 1], np.zeros((5, 1)), params)
    require_implemented('forward', result)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure('forward should return (xs, hs, ps).')
    for name, steps, shape in zip(['xs', 'hs', 'ps'], result, [(4, 1), (5, 1), (4, 1)]):
        expected_keys = {-1, 0, 1, 2} if name == 'hs' else {0, 1, 2}
        if not isinstance(steps, dict) or set(steps) != expected_keys:
            raise CheckFailure(f'forward([0, 3, 1], ...): {name} should be a dict with the keys {sorted(expected_keys)}' + (' (hs[-1] is hprev)' if name == 'hs' else '') + '.')
        for t in sorted(steps):
            check_shape(f'forward: {name}[{t}]', steps[t], shape)

@test_case(points=1, hidden=False)
def test_sequence_loss_of_two_steps(sequence_loss):
    import numpy as np
    from lab_checks import check_summed_cross_entropy
    from rnnlab_checks.arrays import as_number, check_callable
    check_callable('sequence_loss', sequence_loss)
    ps = {0: np.array([[0.5], [0.25], [0.25]]), 1: np.array([[0.1], [0.8], [0.1]])}
    loss = as_number('sequence_loss(ps, [0, 1])', sequence_loss(ps, [0, 1]))
    check_summed_cross_entropy('sequence_loss(ps, [0, 1])', loss, -np.log(0.5) - np.log(0.8), 2, 1e-07)

