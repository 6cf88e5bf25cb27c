from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=2, hidden=False)
def test_gradients_by_time_step(env, backward):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.gradients import check_bptt
    from rnnlab_checks.reference import forward_for_backward, reference_globals, trusted
    check_callable('backward', backward)
    forward = trusted(env, 'forward')
    sequence_loss = trusted(env, 'sequence_loss')
    rng = np.random.default_rng(5)
    params = random_params(rng, char_rnn_shapes(5, 4))
    inputs, targets = ([int(i) for i in rng.integers(0, 4, 6)], [int(i) for i in rng.integers(0, 4, 6)])
    hprev = np.tanh(rng.normal(size=(5, 1)))

    def loss_for_length(length):
        return lambda p: sequence_loss(forward(inputs[:length], hprev, p)[2], targets[:length])

    def grads_for_length(length):
        xs, hs, ps = forward_for_backward(env, 'forward', inputs[:length], hprev, params)
        try:
            with reference_globals(env, ['one_hot', 'softmax']):
                return backward(xs, hs, ps, targets[:length], params)
        except (KeyError, IndexError) as error:
            raise CheckFailure(f'backward raised {type(error).__name__}: {error} on a sequence of {length} step(s). It must work for a sequence of any length: loop over the steps of this sequence (len(targets)), not over SEQ_LENGTH.') from None
    check_bptt('backward', loss_for_length, grads_for_length, params, ['U', 'W', 'V', 'b', 'c'], num_steps=6)

