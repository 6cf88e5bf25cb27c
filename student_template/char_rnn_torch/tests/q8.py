from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 3

@test_case(points=1, hidden=False)
def test_gru_checkpoint_loads(GRU_CHECKPOINT):
    from lab_checks import char_rnn_checkpoint
    char_rnn_checkpoint(GRU_CHECKPOINT, 'gru', 102, 'the GRU checkpoint')

@test_case(points=1, hidden=False)
def test_gru_held_out_loss(env, GRU_CHECKPOINT):
    from lab_checks import check_held_out_loss
    check_held_out_loss(env, GRU_CHECKPOINT, 'gru', 'the GRU checkpoint', 1.8)

