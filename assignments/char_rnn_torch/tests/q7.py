"""q7: the trained vanilla RNN, judged by its checkpoint."""


@public(points=1)
def test_rnn_checkpoint_loads(RNN_CHECKPOINT):
    from rnnlab_checks.checkpoints import char_rnn_checkpoint
    char_rnn_checkpoint(RNN_CHECKPOINT, "rnn", 102, "the vanilla RNN checkpoint")


@hidden(points=1)
def test_rnn_held_out_loss(RNN_CHECKPOINT):
    import torch
    from rnnlab_checks.learning import check_loss_below
    from rnnlab_checks.torch_models import HELD_OUT, held_out_loss, submitted_char_model
    model, text, _, char_to_idx = submitted_char_model(RNN_CHECKPOINT, "rnn", "the vanilla RNN checkpoint")
    encoded = torch.tensor([char_to_idx[ch] for ch in text[HELD_OUT]])
    # THRESHOLD
    check_loss_below("the vanilla RNN checkpoint", "loss on 10,000 held-out characters", held_out_loss(model, encoded),
                     1.9, unit="character", uniform=4.625, unigram=3.08)


@hidden(points=1)
def test_rnn_writes_text(RNN_CHECKPOINT):
    import torch
    from rnnlab_checks.reference import reference_solution
    from rnnlab_checks.torch_models import SAMPLE_PRIME, check_written_text, submitted_char_model
    model, text, chars, _ = submitted_char_model(RNN_CHECKPOINT, "rnn", "the vanilla RNN checkpoint")
    written = reference_solution("char_rnn_torch").sample(model, chars, SAMPLE_PRIME, 1000, temperature=0.8,
                                                          generator=torch.Generator().manual_seed(0))
    # THRESHOLD
    check_written_text("the vanilla RNN checkpoint", written[len(SAMPLE_PRIME):], text, 0.3, 0.35, 0.15)
