from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=1, hidden=False)
def test_rnn_checkpoint_loads(RNN_CHECKPOINT):
    from lab_checks import char_rnn_checkpoint
    char_rnn_checkpoint(RNN_CHECKPOINT, 'rnn', 102, 'the vanilla RNN checkpoint')

@test_case(points=1, hidden=False)
def test_rnn_held_out_loss(env, RNN_CHECKPOINT):
    from lab_checks import check_held_out_loss
    check_held_out_loss(env, RNN_CHECKPOINT, 'rnn', 'the vanilla RNN checkpoint', 1.9)

