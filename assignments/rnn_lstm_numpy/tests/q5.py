"""q5: backward_pass (BPTT)."""


@public(points=2)
def test_gradients_by_time_step(env, backward_pass):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks.arrays import check_callable, returned
    from rnnlab_checks.fixtures import mean_cross_entropy, one_hot_sequence, random_params
    from rnnlab_checks.gradients import check_bptt
    from rnnlab_checks.reference import forward_for_backward, reference_solution, trusted
    check_callable("backward_pass", backward_pass)
    forward_pass = trusted(env, "forward_pass")
    rng = np.random.default_rng(5)
    params = random_params(rng, rnn_shapes(5, 4))
    inputs, targets, h0 = one_hot_sequence(rng, 6, 4), one_hot_sequence(rng, 6, 4), rng.normal(size=(5, 1))

    def loss_for_length(length):
        return lambda p: mean_cross_entropy(forward_pass(inputs[:length], h0, p)[0], targets[:length])

    def grads_for_length(length):
        outputs, hidden_states = forward_for_backward(env, "forward_pass",
                                                      inputs[:length], h0, params)
        return returned("backward_pass", backward_pass(inputs[:length], outputs, hidden_states, targets[:length],
                                                       params), ["loss", "grads"])[1]

    def known_mistakes(length):  # what the reference gives with them; while grading only
        if reference_solution() is None:
            return {}
        outputs, hidden_states = forward_pass(inputs[:length], h0, params)
        late = [hidden_states[-1]] + list(hidden_states[:-1])
        return {"is what a backward pass gives that reads the states one step late (step t takes "
                "hidden_states[t] as its own state and hidden_states[t - 1] as the previous one; "
                "hidden_states starts with the initial state, so step t's own state is hidden_states[t + 1])":
                trusted(env, "backward_pass")(inputs[:length], outputs, late, targets[:length], params)[1]}

    check_bptt("backward_pass", loss_for_length, grads_for_length, params,
               ["U", "V", "W", "b_hidden", "b_out"], num_steps=6, mean=True, known_mistakes=known_mistakes)


@hidden(points=2)
def test_loss_and_gradients_full_size(env, backward_pass, cross_entropy):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.fixtures import mean_cross_entropy, one_hot_sequence, random_params
    from rnnlab_checks.arrays import returned
    from rnnlab_checks.gradients import check_gradients
    from rnnlab_checks.reference import forward_for_backward, trusted
    forward_pass = trusted(env, "forward_pass")
    rng = np.random.default_rng(6)
    params = random_params(rng, rnn_shapes(50, 4), scale=0.3)
    inputs, targets = one_hot_sequence(rng, 12, 4), one_hot_sequence(rng, 12, 4)
    h0 = np.zeros((50, 1))
    outputs, hidden_states = forward_for_backward(env, "forward_pass", inputs, h0, params)
    loss, grads = returned("backward_pass", backward_pass(inputs, outputs, hidden_states, targets, params),
                           ["loss", "grads"])
    expected = mean_cross_entropy(outputs, targets)
    given = float(cross_entropy(outputs, targets))
    if not np.isclose(given, expected, rtol=1e-6):  # the notebook gives it: a student may have changed it
        raise CheckFailure(f"cross_entropy(outputs, targets) is {given:.6g} but the mean cross-entropy per token "
                           f"of these outputs is {expected:.6g}; cross_entropy, given with backward_pass, "
                           "should return -mean(log of each step's probability of its target).")
    if not np.isclose(float(loss), expected, rtol=1e-6):
        raise CheckFailure(f"backward_pass: the loss is {float(loss):.6g} but the mean cross-entropy "
                           f"per token of these outputs is {expected:.6g}; return the mean over time "
                           "steps (not a sum, not divided by the vocabulary size), the same function "
                           "your gradients are of.")
    check_gradients("backward_pass", lambda p: mean_cross_entropy(forward_pass(inputs, h0, p)[0], targets),
                    params, grads, ["U", "V", "W", "b_hidden", "b_out"], steps=12)
