"""q7: train_rnn (the training loop)."""


@public(points=1)
def test_training_runs_and_loss_falls(env, train_rnn):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape, is_sequence
    from rnnlab_checks.reference import reference_globals
    check_callable("train_rnn", train_rnn)
    sequences = [["a"] * n + ["b"] * n + ["EOS"] for n in [1, 2, 3, 4, 5] * 8]
    train_set = [(s[:-1], s[1:]) for s in sequences[:32]]
    val_set = [(s[:-1], s[1:]) for s in sequences[32:]]
    word_to_idx = {"a": 0, "b": 1, "EOS": 2, "UNK": 3}
    names = ["init_rnn", "forward_pass", "backward_pass", "clip_gradient_norm", "update_parameters",
             "one_hot_encode", "one_hot_encode_sequence", "cross_entropy"]
    with reference_globals(env, names):
        result = train_rnn(train_set, val_set, word_to_idx, 4, hidden_size=8, num_epochs=4, lr=0.1,
                           max_norm=1.0, seed=0)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure("train_rnn should return (params, train_losses, val_losses).")
    params, train_losses, val_losses = result
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure("train_rnn should return the trained (U, V, W, b_hidden, b_out) first.")
    for name, p, shape in zip(["U", "V", "W", "b_hidden", "b_out"], params, rnn_shapes(8, 4)):
        check_shape(f"train_rnn: the trained {name}", p, shape)
    if len(train_losses) != 4 or len(val_losses) != 4:
        raise CheckFailure(f"train_rnn(num_epochs=4) returned {len(train_losses)} training and "
                           f"{len(val_losses)} validation losses; expected one per epoch.")
    if not np.all(np.isfinite(train_losses)) or not train_losses[-1] < train_losses[0]:
        raise CheckFailure(f"train_rnn: the training loss went from {train_losses[0]:.4g} to "
                           f"{train_losses[-1]:.4g} in 4 epochs; it should fall. Check the order "
                           "forward -> backward -> clip -> update, and that you keep the updated "
                           "parameters.")


@hidden(points=2)
def test_learns_the_task_and_continues_every_n(env, train_rnn):
    from lab_checks import check_anbn_generation
    from rnnlab_checks.learning import check_loss_below
    from rnnlab_checks.reference import reference_globals, reference_solution
    reference = reference_solution()
    sequences = reference.generate_dataset(num_sequences=256, max_n=11, seed=42)
    word_to_idx, idx_to_word, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, val_set, _ = reference.create_datasets(sequences)
    names = ["init_rnn", "forward_pass", "backward_pass", "clip_gradient_norm", "update_parameters",
             "one_hot_encode", "one_hot_encode_sequence", "cross_entropy"]
    with reference_globals(env, names):
        params, _, val_losses = train_rnn(train_set, val_set, word_to_idx, vocab_size,
                                          hidden_size=50, num_epochs=20, lr=0.1, max_norm=1.0, seed=0)
    # On the a^n b^n EOS task with n uniform in 1..11 only the a->b switch is uncertain: the
    # loss used here (per-sequence means, averaged) cannot go below 0.187 nats per token;
    # uniform guessing costs ln 4 = 1.386.  Over 12 platforms (3 OpenBLAS kernels x 1, 2
    # threads x 2 numpy versions) and seeds 0-9 the reference's best validation loss is
    # 0.2702-0.2834 and it continues a^n b right for 11/11 n everywhere; a loop that drops the
    # update stays at 1.268 or more and 1/11 at best (calibrate.py).
    # 0.33 leaves 0.047 on the reference side (its spread: 0.013) and 0.94 on the bug's; one
    # miss of the 11 continuations is tolerated.
    check_loss_below("train_rnn", "best validation loss in 20 epochs", min(val_losses), 0.33,
                     entropy_floor=0.187, uniform_guessing=1.386)
    check_anbn_generation("train_rnn", reference.greedy_generate, params, word_to_idx, idx_to_word)
