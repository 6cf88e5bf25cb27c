from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2

@test_case(points=1, hidden=False)
def test_one_step_from_empty_memory(adagrad_update):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_callable, check_close, is_sequence, require_implemented
    check_callable('adagrad_update', adagrad_update)
    params, grads, memory = ((np.array([[1.0, -2.0]]),), (np.array([[0.5, -4.0]]),), (np.zeros((1, 2)),))
    result = adagrad_update(params, grads, memory, 0.1)
    require_implemented('adagrad_update', result)
    after = arguments_after(adagrad_update, (params, grads, memory))
    if not (np.array_equal(after[0][0], [[1.0, -2.0]]) and np.array_equal(after[2][0], np.zeros((1, 2)))):
        raise CheckFailure('adagrad_update changed the parameters or the memory it was given in place; compute new arrays and return them (train keeps what it returns).')
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure('adagrad_update should return (new_params, new_memory).')
    check_close('adagrad_update: the new memory (memory + grad**2)', result[1][0], [[0.25, 16.0]], rtol=1e-12)
    check_close('adagrad_update: the new parameter (param - lr * grad / sqrt(memory + 1e-8))', result[0][0], [[1.0 - 0.1 * 0.5 / np.sqrt(0.25 + 1e-08), -2.0 + 0.1 * 4.0 / np.sqrt(16 + 1e-08)]], rtol=1e-12)

