"""q6: clip_gradient_norm and update_parameters."""


@public(points=1)
def test_clip_gradient_norm(clip_gradient_norm):
    import numpy as np
    from lab_checks import how_it_clipped
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_callable, check_close, is_sequence
    check_callable("clip_gradient_norm", clip_gradient_norm)
    rng = np.random.default_rng(7)
    grads = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    kept = [g.copy() for g in grads]
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = clip_gradient_norm(grads, max_norm=0.25)
    grads_after = arguments_after(clip_gradient_norm, (grads,))[0]
    if any(not np.array_equal(g, before) for g, before in zip(grads_after, kept)):
        raise CheckFailure("clip_gradient_norm changed the gradients it was given; return new arrays "
                           "(g * scale), do not scale in place.")
    if not is_sequence(clipped) or len(clipped) != 2:
        raise CheckFailure("clip_gradient_norm should return the clipped gradients, one array per gradient.")
    new_norm = np.sqrt(sum(np.sum(np.asarray(g) ** 2) for g in clipped))
    if not np.isclose(new_norm, 0.25, rtol=1e-4):
        raise CheckFailure(f"clip_gradient_norm(max_norm=0.25): gradients of joint norm {norm:.4g} "
                           f"came back with joint norm {new_norm:.4g}, expected 0.25: "
                           f"{how_it_clipped(kept, clipped, 0.25)}.")
    for k, (g, c) in enumerate(zip(kept, clipped)):
        check_close(f"clip_gradient_norm: gradient {k}", c, g * (0.25 / norm), rtol=1e-4)
    small = (0.01 * kept[0], 0.01 * kept[1])
    small_clipped = clip_gradient_norm(small, max_norm=0.25)
    if not is_sequence(small_clipped) or len(small_clipped) != 2:
        raise CheckFailure("clip_gradient_norm(grads) should return a list or tuple of as many "
                           "gradients as it was given.")
    for k, (g, c) in enumerate(zip(small, small_clipped)):
        check_close(f"clip_gradient_norm: gradient {k} of joint norm {0.01 * norm:.3g} < max_norm "
                    "(it must be returned unchanged)", c, g)


@public(points=1)
def test_update_parameters(update_parameters):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, is_sequence
    check_callable("update_parameters", update_parameters)
    rng = np.random.default_rng(8)
    params = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    grads = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    kept = [p.copy() for p in params]
    updated = update_parameters(params, grads, lr=0.1)
    if not is_sequence(updated) or len(updated) != 2:
        raise CheckFailure("update_parameters should return the new parameters, one array per parameter.")
    for k, (p, g, new) in enumerate(zip(kept, grads, updated)):
        check_close(f"update_parameters(lr=0.1): parameter {k} (gradient descent steps against "
                    "the gradient: p - lr * g)", new, p - 0.1 * g)


@hidden(points=1)
def test_clipping_many_arrays_in_place_safe(clip_gradient_norm, update_parameters):
    import numpy as np
    from lab_checks import how_it_clipped
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_finite, check_shape, is_sequence, same_array
    rng = np.random.default_rng(13)
    grads = tuple(rng.normal(size=shape) for shape in [(5, 4), (5, 5), (4, 5), (5, 1), (4, 1)])
    kept = [g.copy() for g in grads]
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = clip_gradient_norm(grads, max_norm=1.0)
    if not is_sequence(clipped) or len(clipped) != 5:
        raise CheckFailure("clip_gradient_norm(grads) should return a list or tuple of as many "
                           "gradients as it was given (here 5).")
    for k, (g, c) in enumerate(zip(kept, clipped)):
        check_finite(f"clip_gradient_norm(max_norm=1.0): gradient {k} of 5",
                     check_shape(f"clip_gradient_norm(max_norm=1.0): gradient {k} of 5", c, g.shape))
    wrong = [k for k, (g, c) in enumerate(zip(kept, clipped)) if not same_array(c, g / norm, rtol=1e-4)]
    if wrong:
        raise CheckFailure(f"clip_gradient_norm(max_norm=1.0) of 5 gradients of joint norm {norm:.4g}: "
                           f"gradient {wrong[0]} is wrong: {how_it_clipped(kept, clipped, 1.0)}.")
    for k, (g, before) in enumerate(zip(arguments_after(clip_gradient_norm, (grads,))[0], kept)):
        if not np.array_equal(g, before):
            raise CheckFailure(f"clip_gradient_norm changed its input gradient {k} in place; "
                               "return new arrays.")
    params = tuple(g.copy() for g in kept)
    update_parameters(params, kept, lr=0.5)
    for k, (p, before) in enumerate(zip(arguments_after(update_parameters, (params,))[0], kept)):
        if not np.array_equal(p, before):
            raise CheckFailure(f"update_parameters changed parameter {k} in place; return new arrays.")
