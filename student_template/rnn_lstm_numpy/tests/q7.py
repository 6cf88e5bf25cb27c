from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=1, hidden=False)
def test_training_runs_and_loss_falls(env, train_rnn):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence
    from rnnlab_checks.reference import reference_globals
    check_callable('train_rnn', train_rnn)
    sequences = [['a'] * n + ['b'] * n + ['EOS'] for n in [1, 2, 3, 4, 5] * 8]
    train_set = [(s[:-1], s[1:]) for s in sequences[:32]]
    val_set = [(s[:-1], s[1:]) for s in sequences[32:]]
    word_to_idx = {'a': 0, 'b': 1, 'EOS': 2, 'UNK': 3}
    names = ['init_rnn', 'forward_pass', 'backward_pass', 'clip_gradient_norm', 'update_parameters', 'one_hot_encode', 'one_hot_encode_sequence', 'cross_entropy']
    with reference_globals(env, names):
        result = train_rnn(train_set, val_set, word_to_idx, 4, hidden_size=8, num_epochs=4, lr=0.1, max_norm=1.0, seed=0)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure('train_rnn should return (params, train_losses, val_losses).')
    params, train_losses, val_losses = result
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure('train_rnn should return the trained (U, V, W, b_hidden, b_out) first.')
    for name, p, shape in zip(['U', 'V', 'W', 'b_hidden', 'b_out'], params, rnn_shapes(8, 4)):
        check_shape(f'train_rnn: the trained {name}', p, shape)
    if len(train_losses) != 4 or len(val_losses) != 4:
        raise CheckFailure(f'train_rnn(num_epochs=4) returned {len(train_losses)} training and {len(val_losses)} validation losses; expected one per epoch.')
    if not np.all(np.isfinite(train_losses)) or not train_losses[-1] < train_losses[0]:
        raise CheckFailure(f'train_rnn: the training loss went from {train_losses[0]:.4g} to {train_losses[-1]:.4g} in 4 epochs; it should fall. Check the order forward -> backward -> clip -> update, and that you keep the updated parameters.')

