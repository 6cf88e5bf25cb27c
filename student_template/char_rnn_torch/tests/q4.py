from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 6

@test_case(points=1, hidden=False)
def test_train_runs_and_loss_falls(env, CharRNN, train):
    import torch
    from lab_checks import how_the_loss_differs, record_training
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import LeftoverGradients, check_gradients_cleared
    check_callable('train', train)
    text = 'the cat sat on the mat. ' * 20
    chars = sorted(set(text))
    encoded = torch.tensor([chars.index(ch) for ch in text])
    what, _, calls, losses, leftovers = record_training(env, CharRNN, train, num_steps=40, encoded=encoded, vocab_size=len(chars), seq_length=12, watch=lambda model: LeftoverGradients(env, model))
    check_gradients_cleared(what, leftovers)
    differs = how_the_loss_differs(what, 1, calls[0], losses[0], encoded)
    if differs:
        raise CheckFailure(differs)
    if sum(losses[-5:]) / 5 > losses[0] - 1.0:
        raise CheckFailure(f"{what}: the loss went from {losses[0]:.3f} to {sum(losses[-5:]) / 5:.3f} (mean of the last 5 steps) on a text that repeats one phrase; it should fall by more than 1 nat. The loss is computed right and the gradients are cleared at every step, so look at the update: optimizer.step() after loss.backward(), an optimizer over this model's parameters, the learning rate lr.")

