from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False)
def test_streams_and_shifted_targets(make_batches):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import chunks_of
    check_callable('make_batches', make_batches)
    what = 'make_batches(torch.arange(41), batch_size=2, seq_length=5)'
    chunks = chunks_of(make_batches, what, torch.arange(41), 2, 5)
    first = ([[0, 1, 2, 3, 4], [20, 21, 22, 23, 24]], [[1, 2, 3, 4, 5], [21, 22, 23, 24, 25]])
    if len(chunks) != 4:
        raise CheckFailure(f'{what}: two streams of 20 characters give 4 chunks of 5; got {len(chunks)}.')
    if chunks[0][0] != first[0]:
        raise CheckFailure(f'{what}: the inputs of the first chunk should be {first[0]} (stream 1 starts at character 20); got {chunks[0][0]}.')
    if chunks[0][1] != first[1]:
        raise CheckFailure(f'{what}: the targets should be the inputs shifted one character ahead, {first[1]} for the first chunk; got {chunks[0][1]}.')

