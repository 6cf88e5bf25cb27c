"""q3: make_batches."""


@public(points=1)
def test_streams_and_shifted_targets(make_batches):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import chunks_of
    check_callable("make_batches", make_batches)
    what = "make_batches(torch.arange(41), batch_size=2, seq_length=5)"
    chunks = chunks_of(make_batches, what, torch.arange(41), 2, 5)
    first = ([[0, 1, 2, 3, 4], [20, 21, 22, 23, 24]], [[1, 2, 3, 4, 5], [21, 22, 23, 24, 25]])
    if len(chunks) != 4:
        raise CheckFailure(f"{what}: two streams of 20 characters give 4 chunks of 5; got {len(chunks)}.")
    if chunks[0][0] != first[0]:
        raise CheckFailure(f"{what}: the inputs of the first chunk should be {first[0]} (stream 1 starts "
                           f"at character 20); got {chunks[0][0]}.")
    if chunks[0][1] != first[1]:
        raise CheckFailure(f"{what}: the targets should be the inputs shifted one character ahead, "
                           f"{first[1]} for the first chunk; got {chunks[0][1]}.")


@hidden(points=1)
def test_offset_and_continuing_rows(make_batches):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.reference import reference_solution
    from rnnlab_checks.torch_models import chunks_of
    reference = reference_solution()
    encoded = torch.randint(0, 30, (50,), generator=torch.Generator().manual_seed(3))
    for batch_size, seq_length, offset in ((3, 4, 3), (4, 5, 0), (1, 7, 6)):
        what = f"make_batches(encoded, batch_size={batch_size}, seq_length={seq_length}, offset={offset})"
        chunks = chunks_of(make_batches, what, encoded, batch_size, seq_length, offset)
        expected = [(i.tolist(), t.tolist()) for i, t in reference.make_batches(encoded, batch_size, seq_length, offset)]
        if len(chunks) != len(expected):
            raise CheckFailure(f"{what}: {len(encoded) - offset} characters from the offset make "
                               f"{len(expected)} full chunks; got {len(chunks)}.")
        for k, (chunk, wanted) in enumerate(zip(chunks, expected)):
            if chunk != wanted:
                raise CheckFailure(f"{what}: chunk {k} should be inputs {wanted[0]}, targets {wanted[1]}; got "
                                   f"inputs {chunk[0]}, targets {chunk[1]}. Start at the offset, give each row "
                                   "one contiguous stream, and let row b of a chunk continue row b of the one "
                                   "before.")
