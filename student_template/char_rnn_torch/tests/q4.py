from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=1, hidden=False)
def test_train_runs_and_loss_falls(env, CharRNN, train):
    import math
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.reference import reference_globals
    from rnnlab_checks.torch_models import LeftoverGradients, check_gradients_cleared, new_model, run_training
    check_callable('train', train)
    text = 'the cat sat on the mat. ' * 20
    chars = sorted(set(text))
    encoded = torch.tensor([chars.index(ch) for ch in text])
    model = new_model(env, CharRNN, 'CharRNN(11, embedding_dim=16, hidden_size=16)', len(chars), embedding_dim=16, hidden_size=16, num_layers=1, cell='rnn')
    what = 'train(model, encoded, num_steps=40, batch_size=4, seq_length=12, lr=0.01, seed=0)'
    with reference_globals(env, ['make_batches']), LeftoverGradients(env, model) as leftovers:
        losses = run_training(train, what, model, encoded, num_steps=40, batch_size=4, seq_length=12, lr=0.01, seed=0, device='cpu')
    check_gradients_cleared(what, leftovers)
    if abs(losses[0] - math.log(len(chars))) > 0.6:
        raise CheckFailure(f"{what}: the first loss is {losses[0]:.4g}, but a fresh model's mean cross-entropy per character is near ln {len(chars)} = {math.log(len(chars)):.2f}: average the loss over every character of the chunk, once (F.cross_entropy's default).")
    if sum(losses[-5:]) / 5 > losses[0] - 1.0:
        raise CheckFailure(f'{what}: the loss went from {losses[0]:.3f} to {sum(losses[-5:]) / 5:.3f} (mean of the last 5 steps) on a text that repeats one phrase; it should fall by more than 1 nat. Check that every step calls optimizer.zero_grad(), backward() and step().')

