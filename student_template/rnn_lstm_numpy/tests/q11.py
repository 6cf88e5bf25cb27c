from otter.test_files import test_case

OK_FORMAT = False

name = "q11"
points = 2

@test_case(points=1, hidden=False)
def test_torch_model_structure_and_shapes(TorchLSTM):
    import torch
    from lab_checks import check_torch_lstm_decodes_every_step
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_shape
    check_callable('TorchLSTM', TorchLSTM)
    model = TorchLSTM(4, hidden_size=50)
    lstms = [m for m in model.modules() if isinstance(m, torch.nn.LSTM)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if len(lstms) != 1 or lstms[0].input_size != 4 or lstms[0].hidden_size != 50:
        raise CheckFailure(f'TorchLSTM(4, hidden_size=50) should hold one nn.LSTM(input_size=4, hidden_size=50); found {lstms}.')
    if len(linears) != 1 or (linears[0].in_features, linears[0].out_features) != (50, 4):
        raise CheckFailure(f'TorchLSTM should decode with one nn.Linear(50, 4); found {linears}.')
    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (7, 3)), 4).float()
    with torch.no_grad():
        logits = model(x)
        check_shape('TorchLSTM(4)(x) for x of shape (7, 3, 4)', logits.numpy(), (7, 3, 4))
        changed = x.clone()
        changed[0, 0] = torch.tensor([0.0, 0.0, 0.0, 1.0]) if x[0, 0, 3] == 0 else torch.tensor([1.0, 0, 0, 0])
        moved = (model(changed) - logits).abs().amax(dim=2)
    if moved[1:, 0].max() < 1e-07 or moved[:, 1:].max() > 1e-06:
        raise CheckFailure('TorchLSTM: changing x[0, 0] (time 0 of sequence 0) should change the later outputs of sequence 0 only; yours mixes up the time and batch dimensions. Inputs are (T, B, V): leave batch_first=False or transpose.')
    check_torch_lstm_decodes_every_step(TorchLSTM, vocab_size=5, hidden_size=12)

