from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 4

@test_case(points=1, hidden=False)
def test_training_runs_and_the_smooth_loss_falls(env, train):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from lab_checks import TRAINING_PIECES
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence
    from rnnlab_checks.reference import reference_globals
    check_callable('train', train)
    text = 'the cat sat on the mat. ' * 12
    char_to_ix = {ch: i for i, ch in enumerate(sorted(set(text)))}
    with reference_globals(env, TRAINING_PIECES):
        result = train(text, char_to_ix, hidden_size=16, seq_length=8, learning_rate=0.1, num_iterations=60, seed=0)
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure('train should return (params, smooth_losses).')
    params, smooth_losses = result
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure('train should return the trained (U, W, V, b, c) first.')
    for name, p, shape in zip('UWVbc', params, char_rnn_shapes(16, len(char_to_ix))):
        check_shape(f'train: the trained {name}', p, shape)
    losses = np.asarray(smooth_losses, dtype=np.float64)
    if losses.shape != (60,) or not np.all(np.isfinite(losses)):
        raise CheckFailure(f'train(num_iterations=60) should return 60 finite smooth losses, one per iteration; got {(losses.shape[0] if losses.ndim == 1 else losses.shape)}.')
    start = 8 * np.log(len(char_to_ix))
    if abs(losses[0] - start) > 0.01 * start:
        raise CheckFailure(f'train: the first smooth loss is {losses[0]:.3f}; starting from the loss of uniform guessing, seq_length * ln(V) = {start:.3f}, it should still be close to it.')
    if not losses[-1] < losses[0]:
        raise CheckFailure(f'train: the smooth loss went from {losses[0]:.3f} to {losses[-1]:.3f} in 60 iterations on a text that repeats itself; it should fall.')

