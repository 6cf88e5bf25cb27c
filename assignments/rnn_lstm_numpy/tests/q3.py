"""q3: create_datasets, one_hot_encode, one_hot_encode_sequence."""


@public(points=1)
def test_one_hot(one_hot_encode, one_hot_encode_sequence):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, check_shape
    check_callable("one_hot_encode", one_hot_encode)
    expected = np.zeros((5, 1))
    expected[2, 0] = 1.0
    check_close("one_hot_encode(2, 5)", one_hot_encode(2, 5), expected)
    word_to_idx = {"a": 0, "b": 1, "EOS": 2, "UNK": 3}
    encoded = check_shape("one_hot_encode_sequence(['a', 'b', 'b'], 4, word_to_idx)",
                          one_hot_encode_sequence(["a", "b", "b"], 4, word_to_idx), (3, 4, 1))
    hot = [int(np.argmax(encoded[t, :, 0])) for t in range(3)]
    if hot != [0, 1, 1] or encoded.sum() != 3:
        raise CheckFailure(f"one_hot_encode_sequence(['a', 'b', 'b']): the hot rows are {hot}, "
                           "expected [0, 1, 1]; encode each word along the vocabulary axis (axis 1).")


@hidden(points=1)
def test_datasets_split_and_shifted(create_datasets):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    check_callable("create_datasets", create_datasets)
    sequences = [["a"] * n + ["b"] * n + ["EOS"] for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 10]
    splits = create_datasets(sequences)
    sizes = [len(s) for s in splits]
    if sizes != [80, 10, 10]:
        raise CheckFailure(f"create_datasets: split sizes are {sizes}, expected [80, 10, 10].")
    starts = {"training": 0, "validation": 80, "test": 90}
    for (name, start), split in zip(starts.items(), splits):
        for k in range(len(split)):
            inputs, targets = split[k]
            if list(inputs) != sequences[start + k][:-1] or list(targets) != sequences[start + k][1:]:
                raise CheckFailure(f"create_datasets: item {k} of the {name} set is ({list(inputs)}, "
                                   f"{list(targets)}); expected (sequence[:-1], sequence[1:]) of sequence "
                                   f"{start + k}, in the original order.")
    splits = create_datasets(sequences, p_train=0.5, p_val=0.3)
    sizes = [len(s) for s in splits]
    if sizes != [50, 30, 20]:
        raise CheckFailure(f"create_datasets(100 sequences, p_train=0.5, p_val=0.3): split sizes are {sizes}, "
                           "expected [50, 30, 20]; split by the p_train and p_val given, not by 0.8 and 0.1.")
