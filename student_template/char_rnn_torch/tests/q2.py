from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 4

@test_case(points=1, hidden=False)
def test_vanilla_rnn_layers_and_shapes(env, CharRNN):
    import torch
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import check_forward_shapes, check_layers, new_model
    check_callable('CharRNN', CharRNN)
    what = "CharRNN(20, embedding_dim=8, hidden_size=16, num_layers=2, cell='rnn')"
    model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=2, cell='rnn')
    check_layers(model, what, torch.nn.RNN, 20, 8, 16, 2)
    check_forward_shapes(model, what, 3, 7, 20, 16, 2)

@test_case(points=1, hidden=False)
def test_gru_cell_is_an_nn_gru(env, CharRNN):
    import torch
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import check_forward_shapes, check_layers, new_model
    check_callable('CharRNN', CharRNN)
    what = "CharRNN(20, embedding_dim=8, hidden_size=16, num_layers=1, cell='gru')"
    model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=1, cell='gru')
    check_layers(model, what, torch.nn.GRU, 20, 8, 16, 1)
    check_forward_shapes(model, what, 2, 5, 20, 16, 1)

