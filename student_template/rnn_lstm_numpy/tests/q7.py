from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=1, hidden=False)
def test_training_loop_step_by_step(env, train_rnn):
    from lab_checks import check_training_loop
    from rnnlab_checks.arrays import check_callable
    check_callable('train_rnn', train_rnn)
    check_training_loop(env, train_rnn)

