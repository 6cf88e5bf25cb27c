"""q9: predict."""


@public(points=1)
def test_returns_n_characters_of_the_vocabulary(env, predict):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, require_implemented
    from rnnlab_checks.fixtures import notebook_generator, random_params
    from rnnlab_checks.reference import reference_globals
    check_callable("predict", predict)
    chars = "abcdefgh "
    char_to_ix, ix_to_char = {ch: i for i, ch in enumerate(chars)}, dict(enumerate(chars))
    params = random_params(np.random.default_rng(0), char_rnn_shapes(6, len(chars)))
    with reference_globals(env, ["sample", "forward", "one_hot", "softmax"]):
        text = predict(params, char_to_ix, ix_to_char, "bad cab", 30, 1.0, notebook_generator(env, 1))
        again = predict(params, char_to_ix, ix_to_char, "bad cab", 30, 1.0, notebook_generator(env, 1))
    require_implemented("predict", text)
    if not isinstance(text, str) or len(text) != 30 or not set(text) <= set(chars):
        raise CheckFailure(f"predict(..., n=30) should return a str of the 30 characters it wrote, "
                           f"got {text!r}.")
    if text != again:
        raise CheckFailure("predict: two calls with generators of the same seed wrote different texts; "
                           "pass your rng on to sample.")


@hidden(points=1)
def test_the_whole_prefix_is_read_one_character_at_a_time(env, predict):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.reference import reference_globals, trusted
    reference = trusted(env, "predict")
    chars = "abcdefgh "
    char_to_ix, ix_to_char = {ch: i for i, ch in enumerate(chars)}, dict(enumerate(chars))
    params = random_params(np.random.default_rng(4), char_rnn_shapes(10, len(chars)), scale=1.0)
    for prefix in ("h", "dead beef", "fac"):
        expected = reference(params, char_to_ix, ix_to_char, prefix, 20, 1e-3, np.random.default_rng(0))
        with reference_globals(env, ["sample", "forward", "one_hot", "softmax"]):
            text = predict(params, char_to_ix, ix_to_char, prefix, 20, 1e-3, None)
        if text != expected:
            raise CheckFailure(
                f"predict with the prefix {prefix!r} at temperature 0.001 wrote {text!r}, expected {expected!r}. "
                "Feed the prefix one character at a time (one one-hot per step, each updating h from a "
                "zero state), then sample from its last character.")
