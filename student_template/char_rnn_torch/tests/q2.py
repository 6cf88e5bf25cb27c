from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 5

@test_case(points=1, hidden=False)
def test_vanilla_rnn_layers_shapes_and_nonlinearity(env, CharRNN):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import as_tensor, check_forward_shapes, check_layers, new_model, run_forward
    check_callable('CharRNN', CharRNN)
    what = "CharRNN(20, embedding_dim=8, hidden_size=16, num_layers=2, cell='rnn')"
    model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=2, cell='rnn')
    check_layers(model, what, torch.nn.RNN, 20, 8, 16, 2)
    check_forward_shapes(model, what, 3, 7, 20, 16, 2)
    inputs = torch.randint(0, 20, (4, 6), generator=torch.Generator().manual_seed(5))
    for nonlinearity in ('relu', 'tanh'):
        what = f"CharRNN(20, embedding_dim=8, hidden_size=16, cell='rnn', nonlinearity={nonlinearity!r})"
        model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=1, cell='rnn', nonlinearity=nonlinearity)
        _, hidden = run_forward(model, what, inputs, None)
        if bool((as_tensor(hidden, f'{what}: the hidden state').detach() < 0).any()) != (nonlinearity == 'tanh'):
            raise CheckFailure(f"{what}: its hidden state {('has no' if nonlinearity == 'tanh' else 'has')} negative values, which a {nonlinearity} RNN's {('has' if nonlinearity == 'tanh' else 'never has')}: hand nonlinearity on to nn.RNN(..., nonlinearity=nonlinearity).")

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

