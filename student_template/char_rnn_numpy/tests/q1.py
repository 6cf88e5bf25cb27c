from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False)
def test_vocabulary_and_one_hot_of_a_short_text(build_vocabulary, one_hot):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, is_sequence, require_implemented
    check_callable('build_vocabulary', build_vocabulary)
    check_callable('one_hot', one_hot)
    result = build_vocabulary('hello world')
    require_implemented("build_vocabulary('hello world')", result)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure('build_vocabulary should return (chars, char_to_ix, ix_to_char).')
    chars, char_to_ix, ix_to_char = result
    if list(chars) != [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']:
        raise CheckFailure(f"build_vocabulary('hello world') gave chars {list(chars)}; expected the distinct characters, sorted: [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'].")
    if dict(char_to_ix) != {ch: i for i, ch in enumerate(chars)}:
        raise CheckFailure('build_vocabulary: char_to_ix should map each character to its index in chars.')
    expected = [0.0] * 8
    expected[3] = 1.0
    check_close('one_hot(3, 8)', one_hot(3, 8), [[v] for v in expected])

