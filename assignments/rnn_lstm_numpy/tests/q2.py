"""q2: sequences_to_dicts."""


@public(points=1)
def test_vocabulary_with_unk(sequences_to_dicts):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence
    check_callable("sequences_to_dicts", sequences_to_dicts)
    sequences = [["a", "a", "b", "b", "EOS"], ["a", "b", "EOS"]]
    result = sequences_to_dicts(sequences)
    if not is_sequence(result) or len(result) != 4:
        raise CheckFailure("sequences_to_dicts should return (word_to_idx, idx_to_word, "
                           f"num_sequences, vocab_size), got {result!r:.80}.")
    word_to_idx, idx_to_word, num_sequences, vocab_size = result
    if num_sequences != 2:
        raise CheckFailure(f"sequences_to_dicts: num_sequences is {num_sequences}, expected 2.")
    if "UNK" not in word_to_idx:
        raise CheckFailure("sequences_to_dicts: the vocabulary has no 'UNK' entry; add it after "
                           "the words of the data.")
    if vocab_size != 4:
        raise CheckFailure(f"sequences_to_dicts: vocab_size is {vocab_size}, expected 4 "
                           "('a', 'b', 'EOS' and 'UNK').")
    try:
        unknown = word_to_idx["c"]
    except KeyError:
        raise CheckFailure("sequences_to_dicts: word_to_idx['c'] raised KeyError; unknown words "
                           "must map to the index of 'UNK' (use a defaultdict).") from None
    if unknown != word_to_idx["UNK"]:
        raise CheckFailure(f"sequences_to_dicts: word_to_idx['c'] is {unknown}, expected the "
                           f"index of 'UNK' ({word_to_idx['UNK']}).")
    for word in ("a", "b", "EOS", "UNK"):
        try:
            back = idx_to_word[word_to_idx[word]]
        except (KeyError, IndexError, TypeError):
            back = None
        if back != word:
            raise CheckFailure(f"sequences_to_dicts: idx_to_word[word_to_idx['{word}']] is {back!r}, "
                               f"expected '{word}'.")


@hidden(points=1)
def test_frequency_order_with_ties(sequences_to_dicts):
    from rnnlab_checks import CheckFailure
    sequences = [["x", "y", "y", "z", "z", "z"], ["z", "y"]]
    word_to_idx, idx_to_word, _, vocab_size = sequences_to_dicts(sequences)
    order = [idx_to_word[i] for i in range(vocab_size)]
    if order != ["z", "y", "x", "UNK"]:
        raise CheckFailure(f"sequences_to_dicts: words by index are {order}, expected "
                           "['z', 'y', 'x', 'UNK']: most frequent first, 'UNK' last.")
    word_to_idx, idx_to_word, _, vocab_size = sequences_to_dicts([["y", "x", "z", "z"], ["w"]])
    order = [idx_to_word[i] for i in range(vocab_size)]
    if order != ["z", "y", "x", "w", "UNK"]:
        raise CheckFailure(f"sequences_to_dicts([['y', 'x', 'z', 'z'], ['w']]): words by index are {order}, "
                           "expected ['z', 'y', 'x', 'w', 'UNK']: most frequent first, ties in the order of first "
                           "appearance (Counter.most_common keeps it), 'UNK' last.")
