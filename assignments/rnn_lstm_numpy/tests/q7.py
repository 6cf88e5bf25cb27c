"""q7: train_rnn (the training loop)."""


@public(points=1)
def test_training_loop_step_by_step(env, train_rnn):
    from lab_checks import check_training_loop
    from rnnlab_checks.arrays import check_callable
    check_callable("train_rnn", train_rnn)
    check_training_loop(env, train_rnn)


@hidden(points=2)
def test_learns_the_task_and_continues_every_n(env, train_rnn):
    from lab_checks import check_anbn_generation, check_training_loop
    from rnnlab_checks.learning import check_loss_below
    from rnnlab_checks.reference import reference_globals, reference_solution
    # A loop that breaks a contract of the public case fails here too, before it trains: some
    # such loops learn on one platform and not on another (measured with calibrate.py on 3
    # OpenBLAS kernels, seeds 0-2: unclipped updates continue 5-11 of the 11 a^n b right;
    # max_norm ignored, a fixed order, or a generator made outside the function 10-11, where
    # 10 passes), and a score must not depend on the grading machine.
    check_training_loop(env, train_rnn)
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
