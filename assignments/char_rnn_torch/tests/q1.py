"""q1: build_vocabulary, encode and decode."""


@public(points=1)
def test_vocabulary_and_encoding(build_vocabulary, encode):
    import torch
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, require_implemented
    from rnnlab_checks.torch_models import as_tensor
    check_callable("build_vocabulary", build_vocabulary)
    check_callable("encode", encode)
    vocabulary = build_vocabulary("the cat sat")
    require_implemented("build_vocabulary('the cat sat')", vocabulary)
    chars, char_to_idx = vocabulary
    expected = [" ", "a", "c", "e", "h", "s", "t"]
    if list(chars) != expected:
        raise CheckFailure(f"build_vocabulary('the cat sat'): chars should be the sorted distinct characters "
                           f"{expected}; got {list(chars)!r}.")
    if dict(char_to_idx) != {ch: i for i, ch in enumerate(expected)}:
        raise CheckFailure(f"build_vocabulary('the cat sat'): char_to_idx should map each character to its "
                           f"position in chars; got {dict(char_to_idx)!r}.")
    encoded = as_tensor(encode("that", char_to_idx), "encode('that', char_to_idx)", dims=1)
    if encoded.dtype != torch.long:
        raise CheckFailure(f"encode: the indices should be a torch.long tensor (nn.Embedding takes "
                           f"integer indices), not {encoded.dtype}.")
    if encoded.tolist() != [6, 4, 1, 6]:
        raise CheckFailure(f"encode('that', char_to_idx) should be [6, 4, 1, 6]; got {encoded.tolist()}.")


@hidden(points=1)
def test_decode_inverts_encode(build_vocabulary, encode, decode):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    check_callable("decode", decode)
    text = "«Holmes», said he; £5 — café.\n\"Watson!\""
    chars, char_to_idx = build_vocabulary(text)
    for indices in (encode(text, char_to_idx), encode(text, char_to_idx).tolist()):
        decoded = decode(indices, chars)
        if decoded != text:
            raise CheckFailure(f"decode(encode(text), chars) should give the text back as one str; for "
                               f"{text!r} (indices as a {type(indices).__name__}) it gave {decoded!r}.")
