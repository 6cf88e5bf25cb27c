"""q10: lstm_backward (BPTT through h and C)."""


@public(points=2)
def test_lstm_gradients_by_time_step(env, lstm_backward):
    import numpy as np
    from lab_checks import lstm_shapes
    from rnnlab_checks.arrays import check_callable, returned
    from rnnlab_checks.fixtures import mean_cross_entropy, one_hot_sequence, random_params
    from rnnlab_checks.gradients import check_bptt
    from rnnlab_checks.reference import forward_for_backward, trusted
    check_callable("lstm_backward", lstm_backward)
    lstm_forward = trusted(env, "lstm_forward")
    rng = np.random.default_rng(11)
    params = random_params(rng, lstm_shapes(4, 4))
    inputs, targets = one_hot_sequence(rng, 5, 4), one_hot_sequence(rng, 5, 4)
    h0, c0 = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))

    def loss_for_length(length):
        return lambda p: mean_cross_entropy(lstm_forward(inputs[:length], h0, c0, p)[0], targets[:length])

    def grads_for_length(length):
        _, cache = forward_for_backward(env, "lstm_forward", inputs[:length], h0, c0, params)
        return returned("lstm_backward", lstm_backward(targets[:length], cache, params), ["loss", "grads"])[1]

    check_bptt("lstm_backward", loss_for_length, grads_for_length, params,
               ["W_f", "W_i", "W_g", "W_o", "W_v", "b_f", "b_i", "b_g", "b_o", "b_v"], num_steps=5, mean=True)


@hidden(points=2)
def test_lstm_loss_and_gradients_full_size(env, lstm_backward):
    import numpy as np
    from lab_checks import lstm_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.fixtures import mean_cross_entropy, one_hot_sequence, random_params
    from rnnlab_checks.arrays import returned
    from rnnlab_checks.gradients import check_gradients
    from rnnlab_checks.reference import forward_for_backward, trusted
    lstm_forward = trusted(env, "lstm_forward")
    rng = np.random.default_rng(12)
    params = random_params(rng, lstm_shapes(50, 4), scale=0.3)
    inputs, targets = one_hot_sequence(rng, 10, 4), one_hot_sequence(rng, 10, 4)
    h0, c0 = np.zeros((50, 1)), np.zeros((50, 1))
    outputs, cache = forward_for_backward(env, "lstm_forward", inputs, h0, c0, params)
    loss, grads = returned("lstm_backward", lstm_backward(targets, cache, params), ["loss", "grads"])
    expected = mean_cross_entropy(outputs, targets)
    if not np.isclose(float(loss), expected, rtol=1e-6):
        raise CheckFailure(f"lstm_backward: the loss is {float(loss):.6g} but the mean cross-entropy "
                           f"per token of these outputs is {expected:.6g}; return the mean over time "
                           "steps, the same function your gradients are of.")
    check_gradients("lstm_backward", lambda p: mean_cross_entropy(lstm_forward(inputs, h0, c0, p)[0], targets),
                    params, grads, ["W_f", "W_i", "W_g", "W_o", "W_v", "b_f", "b_i", "b_g", "b_o", "b_v"], steps=10)
