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
        bound, size = 1 / np.sqrt(fan_in), array.size
        where = f"init_params(hidden_size={hidden_size}, vocab_size={vocab_size}): {name}"
        # n entries uniform on [-a, a]: the mean has standard error a / sqrt(3n), 0.019 a at the
        # smallest n here (900); 0.1 a is 5.2 of them (a correct draw fails once in 5 million).
        # Draws in [0, a) (rng.random, rng.uniform(0, a)) have mean a / 2: 26 standard errors out.
        mean = float(array.mean())
        if abs(mean) > 0.1 * bound:
            raise CheckFailure(f"{where} has mean {mean:.4f}; uniform in +-1/sqrt(fan_in) = +-{bound:.4f} is "
                               "centred on 0. rng.random draws in [0, 1): use rng.uniform(-1, 1, shape) / "
                               "sqrt(fan_in).")
        # The sample's standard deviation has relative standard error sqrt((kurtosis - 1) / 4n)
        # = sqrt(0.2 / n) for a uniform (kurtosis 1.8): 0.0149 at n = 900, 0.0075 at 3600. Allowed:
        # 8 of them, 0.12 at 900 and 0.06 at 3600 (a correct draw fails once in 10^15). The bugs
        # closest to it: a bound with another matrix's fan-in (sqrt(60) against sqrt(15)) is off by
        # a factor of 2, a standard deviation of 1/sqrt(fan_in) (bound sqrt(3 / fan_in)) by
        # sqrt(3), randn * 0.01 by 7.5 or more. The largest |value| of a correct draw is at most a
        # (1e-9 for the rounding of the division); under 0.9 a it has probability 0.9^900 = 1e-41.
        spread, largest = float(array.std()), float(np.abs(array).max())
        tolerance = 8 * np.sqrt(0.2 / size)
        if largest > bound * (1 + 1e-9) or largest < 0.9 * bound or abs(spread / (bound / np.sqrt(3)) - 1) > tolerance:
            raise CheckFailure(
                f"{where} has largest |value| {largest:.4f} and standard deviation {spread:.4f}; uniform in "
                f"+-1/sqrt(fan_in) = +-{bound:.4f} gives largest about {bound:.4f} and deviation "
                f"{bound / np.sqrt(3):.4f} (within {tolerance:.0%} over its {size} entries). {name}'s fan_in is "
                f"{fan_in}: the length of the vector it multiplies.")
    again = [as_array("init_params", p) for p in init_params(hidden_size, vocab_size, notebook_generator(env, 1))]
    if not all(np.array_equal(a, b) for a, b in zip(params, again)):
        raise CheckFailure("init_params: the same seeded generator gave different parameters; draw every "
                           "number with the rng argument, not with np.random.")
    other = [as_array("init_params", p) for p in init_params(hidden_size, vocab_size, notebook_generator(env, 2))]
    same = [name for name, a, b in zip("UWV", params, other) if np.array_equal(a, b)]
    if same:
        raise CheckFailure(f"init_params: generators of the seeds 1 and 2 gave the same {', '.join(same)}; draw "
                           "with the rng argument, not with a generator of your own (np.random.default_rng(0)) "
                           "or np.random after np.random.seed.")
