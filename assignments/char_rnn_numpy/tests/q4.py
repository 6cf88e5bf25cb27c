"""q4: forward and sequence_loss."""


@public(points=1)
def test_forward_returns_dicts_of_steps(env, forward):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence, require_implemented
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.reference import reference_globals
    check_callable("forward", forward)
    rng = np.random.default_rng(0)
    params = random_params(rng, char_rnn_shapes(5, 4))
    with reference_globals(env, ["one_hot", "softmax"]):
        result = forward([0, 3, 1], np.zeros((5, 1)), params)
    require_implemented("forward", result)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure("forward should return (xs, hs, ps).")
    for name, steps, shape in zip(["xs", "hs", "ps"], result, [(4, 1), (5, 1), (4, 1)]):
        expected_keys = {-1, 0, 1, 2} if name == "hs" else {0, 1, 2}
        if not isinstance(steps, dict) or set(steps) != expected_keys:
            raise CheckFailure(f"forward([0, 3, 1], ...): {name} should be a dict with the keys "
                               f"{sorted(expected_keys)}" + (" (hs[-1] is hprev)" if name == "hs" else "") + ".")
        for t in sorted(steps):
            check_shape(f"forward: {name}[{t}]", steps[t], shape)


@hidden(points=1)
def test_forward_values_from_the_given_state(env, forward):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_close
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.reference import reference_globals, trusted
    reference = trusted(env, "forward")
    rng = np.random.default_rng(1)
    params = random_params(rng, char_rnn_shapes(7, 6))
    inputs, hprev = [2, 5, 5, 0, 1, 3], np.tanh(rng.normal(size=(7, 1)))
    expected = reference(inputs, hprev, params)
    with reference_globals(env, ["one_hot", "softmax"]):
        xs, hs, ps = forward(inputs, hprev, params)
    for t in range(len(inputs)):
        check_close(f"forward: xs[{t}] (the one-hot of inputs[{t}])", xs[t], expected[0][t])
        what = "the first step must start from hprev" if t == 0 else f"h_{t} = tanh(U x_{t} + W h_{t - 1} + b)"
        check_close(f"forward: hs[{t}] ({what})", hs[t], expected[1][t])
        check_close(f"forward: ps[{t}] (softmax(V h_{t} + c))", ps[t], expected[2][t])
    if not isinstance(hs, dict) or -1 not in hs:
        raise CheckFailure("forward: hs should be a dict with the key -1 for hprev.")
    check_close("forward: hs[-1] (a copy of hprev, the state the sequence starts from; backward reads it as "
                "the state before step 0)", hs[-1], hprev)


@public(points=1)
def test_sequence_loss_of_two_steps(sequence_loss):
    import numpy as np
    from lab_checks import check_summed_cross_entropy
    from rnnlab_checks.arrays import as_number, check_callable
    check_callable("sequence_loss", sequence_loss)
    ps = {0: np.array([[0.5], [0.25], [0.25]]), 1: np.array([[0.1], [0.8], [0.1]])}
    loss = as_number("sequence_loss(ps, [0, 1])", sequence_loss(ps, [0, 1]))
    check_summed_cross_entropy("sequence_loss(ps, [0, 1])", loss, -np.log(0.5) - np.log(0.8), 2, 1e-7)


@hidden(points=1)
def test_sequence_loss_sums_the_cross_entropy(env, sequence_loss):
    import numpy as np
    from lab_checks import check_summed_cross_entropy
    from rnnlab_checks.arrays import VALUE_RTOL, as_number
    from rnnlab_checks.reference import trusted
    rng = np.random.default_rng(2)
    softmax = trusted(env, "softmax")
    ps = {t: softmax(rng.normal(size=(6, 1))) for t in range(5)}
    targets = [1, 0, 5, 5, 2]
    expected = -sum(np.log(ps[t][ix, 0]) for t, ix in enumerate(targets))
    loss = as_number("sequence_loss", sequence_loss(ps, targets))
    check_summed_cross_entropy("sequence_loss (5 steps)", loss, expected, len(targets), VALUE_RTOL)
