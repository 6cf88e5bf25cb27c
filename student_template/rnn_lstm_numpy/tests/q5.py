from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=2, hidden=False)
def test_gradients_by_time_step(env, backward_pass):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks.arrays import check_callable, returned
    from rnnlab_checks.fixtures import mean_cross_entropy, one_hot_sequence, random_params
    from rnnlab_checks.gradients import check_bptt
    from rnnlab_checks.reference import forward_for_backward, reference_solution, trusted
    check_callable('backward_pass', backward_pass)
    forward_pass = trusted(env, 'forward_pass')
    rng = np.random.default_rng(5)
    params = random_params(rng, rnn_shapes(5, 4))
    inputs, targets, h0 = (one_hot_sequence(rng, 6, 4), one_hot_sequence(rng, 6, 4), rng.normal(size=(5, 1)))

    def loss_for_length(length):
        return lambda p: mean_cross_entropy(forward_pass(inputs[:length], h0, p)[0], targets[:length])

    def grads_for_length(length):
        outputs, hidden_states = forward_for_backward(env, 'forward_pass', inputs[:length], h0, params)
        return returned('backward_pass', backward_pass(inputs[:length], outputs, hidden_states, targets[:length], params), ['loss', 'grads'])[1]

    def known_mistakes(length):
        if reference_solution() is None:
            return {}
        outputs, hidden_states = forward_pass(inputs[:length], h0, params)
        late = [hidden_states[-1]] + list(hidden_states[:-1])
        return {"is what a backward pass gives that reads the states one step late (step t takes hidden_states[t] as its own state and hidden_states[t - 1] as the previous one; hidden_states starts with the initial state, so step t's own state is hidden_states[t + 1])": trusted(env, 'backward_pass')(inputs[:length], outputs, late, targets[:length], params)[1]}
    check_bptt('backward_pass', loss_for_length, grads_for_length, params, ['U', 'V', 'W', 'b_hidden', 'b_out'], num_steps=6, mean=True, known_mistakes=known_mistakes)

