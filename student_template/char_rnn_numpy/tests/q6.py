from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 2

@test_case(points=1, hidden=False)
def test_entries_beyond_the_limit_are_clipped(clip_gradients):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_callable, check_close, is_sequence, require_implemented
    check_callable('clip_gradients', clip_gradients)
    grads = (np.array([[12.0, -7.5], [0.5, 5.0]]), np.array([[-5.01], [4.99]]))
    clipped = clip_gradients(grads)
    require_implemented('clip_gradients', clipped)
    if arguments_after(clip_gradients, (grads,))[0][0][0, 0] != 12.0:
        raise CheckFailure('clip_gradients changed the gradients it was given in place; return clipped copies (np.clip without out=), which train then uses.')
    if not is_sequence(clipped) or len(clipped) != 2:
        raise CheckFailure('clip_gradients should return one clipped array per gradient, in a tuple.')
    check_close('clip_gradients: the first gradient clipped to +-5', clipped[0], [[5.0, -5.0], [0.5, 5.0]])
    check_close('clip_gradients: the second gradient clipped to +-5', clipped[1], [[-5.0], [4.99]])

