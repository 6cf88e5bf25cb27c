"""q1: build_vocabulary and one_hot."""


@public(points=1)
def test_vocabulary_and_one_hot_of_a_short_text(build_vocabulary, one_hot):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, is_sequence, require_implemented
    check_callable("build_vocabulary", build_vocabulary)
    check_callable("one_hot", one_hot)
    result = build_vocabulary("hello world")
    require_implemented("build_vocabulary('hello world')", result)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure("build_vocabulary should return (chars, char_to_ix, ix_to_char).")
    chars, char_to_ix, ix_to_char = result
    if list(chars) != [" ", "d", "e", "h", "l", "o", "r", "w"]:
        raise CheckFailure(f"build_vocabulary('hello world') gave chars {list(chars)}; expected the "
                           "distinct characters, sorted: [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'].")
    if dict(char_to_ix) != {ch: i for i, ch in enumerate(chars)}:
        raise CheckFailure("build_vocabulary: char_to_ix should map each character to its index in chars.")
    expected = [0.0] * 8
    expected[3] = 1.0
    check_close("one_hot(3, 8)", one_hot(3, 8), [[v] for v in expected])


@hidden(points=1)
def test_vocabulary_maps_are_inverse_and_cover_the_text(build_vocabulary, one_hot):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_close
    text = "Mr. Sherlock Holmes, who was usually very late in the mornings,\nsat at the\tbreakfast table. Élan!"
    chars, char_to_ix, ix_to_char = build_vocabulary(text)
    if list(chars) != sorted(set(text)):
        raise CheckFailure(f"build_vocabulary: chars has {len(chars)} entries in the order {''.join(chars)!r}; "
                           "expected every distinct character once, sorted (newline and tab included).")
    position, char_to_ix = {ch: i for i, ch in enumerate(chars)}, dict(char_to_ix)
    wrong = [ch for ch in chars if char_to_ix.get(ch) != position[ch]]
    if wrong:
        raise CheckFailure(f"build_vocabulary: char_to_ix[{wrong[0]!r}] is {char_to_ix.get(wrong[0])!r}, but "
                           f"{wrong[0]!r} is at index {position[wrong[0]]} of chars: build both from the one "
                           "sorted list.")

    def read_back(ch):
        try:
            return ix_to_char[char_to_ix[ch]]
        except (KeyError, IndexError, TypeError):
            return None

    wrong = [ch for ch in chars if read_back(ch) != ch]
    if len(ix_to_char) != len(chars) or wrong:
        shown = ""
        if wrong:
            ix, got = char_to_ix[wrong[0]], read_back(wrong[0])
            shown = f"; ix_to_char[{ix}] " + ("is missing" if got is None else f"is {got!r}") + f", not {wrong[0]!r}"
        raise CheckFailure(f"build_vocabulary: ix_to_char has {len(ix_to_char)} entries{shown}. ix_to_char maps "
                           "each index to its character, undoing char_to_ix: ix_to_char[char_to_ix[ch]] == ch for "
                           "each of the V characters (keys are the indices 0 .. V-1).")
    for ix in (0, len(chars) - 1):
        check_close(f"one_hot({ix}, {len(chars)})", one_hot(ix, len(chars)), np.eye(len(chars))[:, [ix]])
