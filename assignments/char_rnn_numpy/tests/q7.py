"""q7: adagrad_update."""


@public(points=1)
def test_one_step_from_empty_memory(adagrad_update):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import arguments_after, check_callable, check_close, is_sequence, require_implemented
    check_callable("adagrad_update", adagrad_update)
    params, grads, memory = (np.array([[1.0, -2.0]]),), (np.array([[0.5, -4.0]]),), (np.zeros((1, 2)),)
    result = adagrad_update(params, grads, memory, 0.1)
    require_implemented("adagrad_update", result)
    after = arguments_after(adagrad_update, (params, grads, memory))
    if not (np.array_equal(after[0][0], [[1.0, -2.0]]) and np.array_equal(after[2][0], np.zeros((1, 2)))):
        raise CheckFailure("adagrad_update changed the parameters or the memory it was given in place; "
                           "compute new arrays and return them (train keeps what it returns).")
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure("adagrad_update should return (new_params, new_memory).")
    check_close("adagrad_update: the new memory (memory + grad**2)", result[1][0], [[0.25, 16.0]], rtol=1e-12)
    check_close("adagrad_update: the new parameter (param - lr * grad / sqrt(memory + 1e-8))",
                result[0][0], [[1.0 - 0.1 * 0.5 / np.sqrt(0.25 + 1e-8), -2.0 + 0.1 * 4.0 / np.sqrt(16 + 1e-8)]],
                rtol=1e-12)


@hidden(points=1)
def test_memory_carries_across_calls_and_zero_gradients_are_safe(adagrad_update):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import as_array, check_close, same_array
    rng = np.random.default_rng(8)
    shapes = char_rnn_shapes(6, 5)
    params = tuple(rng.normal(size=s) for s in shapes)
    memory = tuple(np.zeros(s) for s in shapes)
    expected_params, expected_memory = params, memory
    for step in range(3):
        grads = tuple(rng.normal(size=s) for s in shapes)
        grads[4][0, 0] = 0.0  # never had a gradient: the 1e-8 keeps it at 0 / sqrt(1e-8)
        expected_memory = tuple(m + g * g for m, g in zip(expected_memory, grads))
        steps = tuple(0.05 * g / np.sqrt(m + 1e-8) for g, m in zip(grads, expected_memory))
        expected_params = tuple(p - d for p, d in zip(expected_params, steps))
        before = params
        params, memory = adagrad_update(params, grads, memory, 0.05)
        for name, value, expected in zip(["U", "W", "V", "b", "c"], memory, expected_memory):
            check_close(f"adagrad_update, call {step + 1}: the memory of {name} (the running sum of "
                        "squared gradients over all calls so far)", value, expected, rtol=1e-12)
        for name, value, old, expected_step in zip(["U", "W", "V", "b", "c"], params, before, steps):
            # A step that is the right one times a constant other than 1 is the step of another
            # learning rate: named (the constant LEARNING_RATE = 0.1 gives 2).
            value = as_array(f"adagrad_update: {name}", value)
            if value.shape != expected_step.shape:
                continue  # named below
            taken = np.asarray(old, dtype=float) - value
            ratio = float(np.sum(taken * expected_step) / np.sum(expected_step ** 2))
            if not np.isclose(ratio, 1.0, rtol=1e-6) and same_array(taken, ratio * expected_step, rtol=1e-9, atol=0):
                cause = (f"the step of the learning rate {0.05 * ratio:.4g}: use the argument learning_rate"
                         if ratio > 0 else "subtract it: param -= lr * grad / sqrt(memory + 1e-8), against the "
                         "gradient")
                raise CheckFailure(f"adagrad_update(params, grads, memory, learning_rate=0.05), call {step + 1}: "
                                   f"{name} moved by {ratio:.4g} times lr * grad / sqrt(memory + 1e-8); {cause}.")
        for name, value, expected in zip(["U", "W", "V", "b", "c"], params, expected_params):
            check_close(f"adagrad_update, call {step + 1}: {name} (lr * grad / sqrt(memory + 1e-8), with "
                        "the memory updated first)", value, expected, rtol=1e-12)
