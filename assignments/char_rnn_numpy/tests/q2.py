"""q2: init_params."""


@public(points=1)
def test_shapes_and_zero_biases(env, init_params):
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence, require_implemented
    from rnnlab_checks.fixtures import notebook_generator
    check_callable("init_params", init_params)
    params = init_params(8, 20, notebook_generator(env, 0))
    require_implemented("init_params(8, 20, rng)", params)
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure("init_params should return the tuple (U, W, V, b, c).")
    names = ["U", "W", "V", "b", "c"]
    arrays = [check_shape(f"init_params(hidden_size=8, vocab_size=20): {n}", p, s)
              for n, p, s in zip(names, params, char_rnn_shapes(8, 20))]
    for name, array in zip(names[3:], arrays[3:]):
        if array.any():
            raise CheckFailure(f"init_params: the bias {name} should start at zero.")


@hidden(points=1)
def test_uniform_in_one_over_sqrt_fan_in_and_seeded(env, init_params):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import as_array
    from rnnlab_checks.fixtures import notebook_generator
    hidden_size, vocab_size = 60, 15
    params = [as_array("init_params", p) for p in init_params(hidden_size, vocab_size, notebook_generator(env, 1))]
    for name, array, fan_in in zip("UWV", params, [vocab_size, hidden_size, hidden_size]):
        bound = 1 / np.sqrt(fan_in)
        # A uniform draw on [-a, a] has standard deviation a / sqrt(3); over the 900 to
        # 3600 entries here the sample's is within 5% of it and its largest |value| above
        # 0.99 a.  Gaussian draws scaled by 0.01 (min-char-rnn) or a bound with the wrong
        # fan-in (sqrt(60) against sqrt(15)) miss by a factor of 2 or more.
        spread, largest = float(array.std()), float(np.abs(array).max())
        if largest > bound * (1 + 1e-9) or largest < 0.9 * bound or abs(spread / (bound / np.sqrt(3)) - 1) > 0.15:
            raise CheckFailure(
                f"init_params(hidden_size={hidden_size}, vocab_size={vocab_size}): {name} has largest |value| "
                f"{largest:.4f} and standard deviation {spread:.4f}; uniform in +-1/sqrt(fan_in) = "
                f"+-{bound:.4f} gives largest about {bound:.4f} and deviation {bound / np.sqrt(3):.4f}. "
                f"{name}'s fan_in is {fan_in}: the length of the vector it multiplies.")
    again = [as_array("init_params", p) for p in init_params(hidden_size, vocab_size, notebook_generator(env, 1))]
    if not all(np.array_equal(a, b) for a, b in zip(params, again)):
        raise CheckFailure("init_params: the same seeded generator gave different parameters; draw every "
                           "number with the rng argument, not with np.random.")
