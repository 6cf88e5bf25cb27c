"""q2: CharRNN."""


@public(points=1)
def test_vanilla_rnn_layers_shapes_and_nonlinearity(env, CharRNN):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import as_tensor, check_forward_shapes, check_layers, new_model, run_forward
    check_callable("CharRNN", CharRNN)
    what = "CharRNN(20, embedding_dim=8, hidden_size=16, num_layers=2, cell='rnn')"
    model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=2, cell="rnn")
    check_layers(model, what, torch.nn.RNN, 20, 8, 16, 2)
    check_forward_shapes(model, what, 3, 7, 20, 16, 2)
    inputs = torch.randint(0, 20, (4, 6), generator=torch.Generator().manual_seed(5))
    for nonlinearity in ("relu", "tanh"):
        what = f"CharRNN(20, embedding_dim=8, hidden_size=16, cell='rnn', nonlinearity={nonlinearity!r})"
        model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=1, cell="rnn",
                          nonlinearity=nonlinearity)
        _, hidden = run_forward(model, what, inputs, None)
        # A ReLU state is never negative; a tanh state of 4 x 16 units always has negative ones.
        if bool((as_tensor(hidden, f"{what}: the hidden state").detach() < 0).any()) != (nonlinearity == "tanh"):
            raise CheckFailure(f"{what}: its hidden state {'has no' if nonlinearity == 'tanh' else 'has'} negative "
                               f"values, which a {nonlinearity} RNN's {'has' if nonlinearity == 'tanh' else 'never has'}:"
                               " hand nonlinearity on to nn.RNN(..., nonlinearity=nonlinearity).")


@public(points=1)
def test_gru_cell_is_an_nn_gru(env, CharRNN):
    import torch
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import check_forward_shapes, check_layers, new_model
    check_callable("CharRNN", CharRNN)
    what = "CharRNN(20, embedding_dim=8, hidden_size=16, num_layers=1, cell='gru')"
    model = new_model(env, CharRNN, what, 20, embedding_dim=8, hidden_size=16, num_layers=1, cell="gru")
    check_layers(model, what, torch.nn.GRU, 20, 8, 16, 1)
    check_forward_shapes(model, what, 2, 5, 20, 16, 1)


@hidden(points=1)
def test_time_runs_along_dimension_1(env, CharRNN):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import new_model, run_forward
    for cell in ("rnn", "gru"):
        what = f"CharRNN(12, embedding_dim=16, hidden_size=16, cell={cell!r})"
        model = new_model(env, CharRNN, what, 12, embedding_dim=16, hidden_size=16, num_layers=1, cell=cell)
        inputs = torch.randint(0, 12, (3, 6), generator=torch.Generator().manual_seed(1))
        changed = inputs.clone()
        changed[0, 0] = (inputs[0, 0] + 1) % 12
        before, _ = run_forward(model, what, inputs, None)
        after, _ = run_forward(model, what, changed, None)
        moved = (after.detach() - before.detach()).abs().amax(dim=2)
        # Changing character 0 of sequence 0 must move that sequence's later logits, and
        # nothing of the other sequences: the batch runs along dimension 0, time along 1.
        if moved[1:].max() > 1e-6:
            raise CheckFailure(f"{what}: changing inputs[0, 0] (sequence 0, step 0) changed the logits of other "
                               "sequences: the model mixes up the batch and time dimensions. Inputs are "
                               "(B, T): build the recurrent layer with batch_first=True.")
        if moved[0, 1:].min() < 1e-7:
            raise CheckFailure(f"{what}: the logits at a step do not depend on the characters before it "
                               f"(changing inputs[0, 0] left logits[0, 1:] unchanged): decode the output of "
                               "the recurrent layer, not the embedding.")


@hidden(points=1)
def test_hidden_state_carries_over(env, CharRNN):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import new_model, run_forward
    what = "CharRNN(12, embedding_dim=8, hidden_size=10, num_layers=2, cell='gru')"
    model = new_model(env, CharRNN, what, 12, embedding_dim=8, hidden_size=10, num_layers=2, cell="gru")
    inputs = torch.randint(0, 12, (2, 9), generator=torch.Generator().manual_seed(2))
    whole, _ = run_forward(model, what, inputs, None)
    _, hidden = run_forward(model, what, inputs[:, :4], None)
    rest, _ = run_forward(model, what, inputs[:, 4:], hidden)
    if not torch.allclose(rest.detach(), whole.detach()[:, 4:], atol=1e-5):
        raise CheckFailure(f"{what}: reading 9 characters at once and reading them as 4 + 5, handing the "
                           "hidden state returned after the first 4 to the second call, should give the "
                           "same logits; they differ. Pass `hidden` on to the recurrent layer.")


@hidden(points=1)
def test_dropout_in_training_mode_only(env, CharRNN):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import new_model, run_forward
    what = "CharRNN(12, embedding_dim=8, hidden_size=16, cell='rnn', dropout=0.5)"
    model = new_model(env, CharRNN, what, 12, embedding_dim=8, hidden_size=16, num_layers=1, cell="rnn", dropout=0.5)
    inputs = torch.randint(0, 12, (3, 6), generator=torch.Generator().manual_seed(3))

    def twice(mode):
        getattr(model, mode)()
        return [run_forward(model, f"{what} in {mode} mode", inputs, None)[0].detach() for _ in range(2)]

    # Dropout of half the 3 x 6 x 16 outputs: two calls in training mode give the same
    # logits with probability 2^-288; in evaluation mode a model is deterministic.
    first, second = twice("train")
    if torch.equal(first, second):
        raise CheckFailure(f"{what}: in training mode two calls on the same inputs gave the same logits: the "
                           "dropout argument is not used. Apply nn.Dropout(dropout) to the recurrent layer's "
                           "output, before the decoder.")
    first, second = twice("eval")
    if not torch.equal(first, second):
        raise CheckFailure(f"{what}: after model.eval(), two calls on the same inputs gave different logits: the "
                           "model's dropout stays on in evaluation mode (F.dropout(x, p) drops whatever the mode, "
                           "since its training argument defaults to True). Use the module nn.Dropout(dropout), "
                           "which model.eval() turns off, or F.dropout(x, p, training=self.training).")
