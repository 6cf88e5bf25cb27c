"""q8: the trained GRU, judged by its checkpoint."""


@public(points=1)
def test_gru_checkpoint_loads(GRU_CHECKPOINT):
    from rnnlab_checks.checkpoints import char_rnn_checkpoint
    char_rnn_checkpoint(GRU_CHECKPOINT, "gru", 102, "the GRU checkpoint")


@hidden(points=1)
def test_gru_held_out_loss(GRU_CHECKPOINT):
    import torch
    from rnnlab_checks.learning import check_loss_below
    from rnnlab_checks.torch_models import HELD_OUT, held_out_loss, submitted_char_model
    model, text, _, char_to_idx = submitted_char_model(GRU_CHECKPOINT, "gru", "the GRU checkpoint")
    encoded = torch.tensor([char_to_idx[ch] for ch in text[HELD_OUT]])
    # THRESHOLD
    check_loss_below("the GRU checkpoint", "loss on 10,000 held-out characters", held_out_loss(model, encoded),
                     1.8, unit="character", uniform=4.625, unigram=3.08)


@hidden(points=1)
def test_gru_writes_text(GRU_CHECKPOINT):
    import torch
    from rnnlab_checks.reference import reference_solution
    from rnnlab_checks.torch_models import SAMPLE_PRIME, check_written_text, submitted_char_model
    model, text, chars, _ = submitted_char_model(GRU_CHECKPOINT, "gru", "the GRU checkpoint")
    written = reference_solution("char_rnn_torch").sample(model, chars, SAMPLE_PRIME, 1000, temperature=0.8,
                                                          generator=torch.Generator().manual_seed(0))
    # THRESHOLD
    check_written_text("the GRU checkpoint", written[len(SAMPLE_PRIME):], text, 0.3, 0.35, 0.15)
