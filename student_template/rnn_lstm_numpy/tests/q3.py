from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False)
def test_one_hot(one_hot_encode, one_hot_encode_sequence):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, check_shape
    check_callable('one_hot_encode', one_hot_encode)
    expected = np.zeros((5, 1))
    expected[2, 0] = 1.0
    check_close('one_hot_encode(2, 5)', one_hot_encode(2, 5), expected)
    word_to_idx = {'a': 0, 'b': 1, 'EOS': 2, 'UNK': 3}
    encoded = check_shape("one_hot_encode_sequence(['a', 'b', 'b'], 4, word_to_idx)", one_hot_encode_sequence(['a', 'b', 'b'], 4, word_to_idx), (3, 4, 1))
    hot = [int(np.argmax(encoded[t, :, 0])) for t in range(3)]
    if hot != [0, 1, 1] or encoded.sum() != 3:
        raise CheckFailure(f"one_hot_encode_sequence(['a', 'b', 'b']): the hot rows are {hot}, expected [0, 1, 1]; encode each word along the vocabulary axis (axis 1).")

