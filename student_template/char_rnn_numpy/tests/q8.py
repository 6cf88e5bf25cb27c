from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 3

@test_case(points=1, hidden=False)
def test_indices_in_range_and_reproducible(env, sample):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence, require_implemented
    from rnnlab_checks.fixtures import notebook_generator, random_params
    from rnnlab_checks.reference import reference_globals
    check_callable('sample', sample)
    params = random_params(np.random.default_rng(0), char_rnn_shapes(5, 7))
    with reference_globals(env, ['one_hot', 'softmax']):
        first = sample(params, np.zeros((5, 1)), 2, 40, 1.0, notebook_generator(env, 3))
        again = sample(params, np.zeros((5, 1)), 2, 40, 1.0, notebook_generator(env, 3))
    require_implemented('sample', first)
    if not (is_sequence(first) or isinstance(first, np.ndarray)) or len(first) != 40:
        raise CheckFailure('sample(params, h, seed_ix, n=40, ...) should return a list of 40 indices.')
    if not all((isinstance(ix, (int, np.integer)) and 0 <= ix < 7 for ix in first)):
        raise CheckFailure(f'sample: every index must be an int in 0..V-1 (V = 7); got {list(first)[:10]} ...')
    if list(first) != list(again):
        raise CheckFailure('sample: two calls with generators of the same seed drew different characters; draw with the rng you are given (rng.choice), not with np.random.')
    with reference_globals(env, ['one_hot', 'softmax']):
        try:
            fresh = [list(sample(params, np.zeros((5, 1)), 2, 40)) for _ in range(2)]
        except (AttributeError, TypeError) as error:
            raise CheckFailure(f'sample(params, h, seed_ix, n) without an rng raised {type(error).__name__}: {error}. With rng=None, draw with a fresh generator: rng = np.random.default_rng() if rng is None else rng.') from None
    if fresh[0] == fresh[1]:
        raise CheckFailure('sample: two calls without an rng drew the same 40 characters; with rng=None, draw with a fresh generator, np.random.default_rng() (no seed), not one of a fixed seed.')

