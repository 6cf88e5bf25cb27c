"""q6: clip_gradients."""


@public(points=1)
def test_entries_beyond_the_limit_are_clipped(clip_gradients):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_callable, check_close, is_sequence, require_implemented
    check_callable("clip_gradients", clip_gradients)
    grads = (np.array([[12.0, -7.5], [0.5, 5.0]]), np.array([[-5.01], [4.99]]))
    clipped = clip_gradients(grads)
    require_implemented("clip_gradients", clipped)
    if arguments_after(clip_gradients, (grads,))[0][0][0, 0] != 12.0:
        raise CheckFailure("clip_gradients changed the gradients it was given in place; return clipped "
                           "copies (np.clip without out=), which train then uses.")
    if not is_sequence(clipped) or len(clipped) != 2:
        raise CheckFailure("clip_gradients should return one clipped array per gradient, in a tuple.")
    check_close("clip_gradients: the first gradient clipped to +-5", clipped[0], [[5.0, -5.0], [0.5, 5.0]])
    check_close("clip_gradients: the second gradient clipped to +-5", clipped[1], [[-5.0], [4.99]])


@hidden(points=1)
def test_every_gradient_and_the_limit_argument(clip_gradients):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_close, same_array
    rng = np.random.default_rng(7)
    # N(0, 4^2) entries: every array has some beyond 5 (db and dc, with 9 and 6 entries, one
    # each) and more beyond 1.5, so that each limit changes each array.
    grads = tuple(rng.normal(0, 4, shape) for shape in char_rnn_shapes(9, 6))
    for limit in (5.0, 1.5):
        clipped = clip_gradients(grads, limit)
        for name, value, grad in zip(["dU", "dW", "dV", "db", "dc"], clipped, grads):
            if limit != 5.0 and same_array(value, np.clip(grad, -5.0, 5.0)):
                raise CheckFailure(f"clip_gradients(grads, limit={limit}): {name} is clipped to +-5, not to "
                                   f"+-{limit}: clip to [-limit, limit] with the argument limit, not the "
                                   "constant CLIP_LIMIT.")
            check_close(f"clip_gradients(grads, limit={limit}): {name}", value, np.clip(grad, -limit, limit))
