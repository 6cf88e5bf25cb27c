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
    # Each prefix of more than one character is continued otherwise than its last character
    # alone, or than the prefix with its last character read twice, so that reading only the
    # last character, or feeding it into the state before sampling from it, writes another text.
    for prefix in ("h", "dead beef", "fac"):
        expected = reference(params, char_to_ix, ix_to_char, prefix, 20, 1e-3, np.random.default_rng(0))
        with reference_globals(env, ["sample", "forward", "one_hot", "softmax"]):
            text = predict(params, char_to_ix, ix_to_char, prefix, 20, 1e-3, None)
            again = predict(params, char_to_ix, ix_to_char, prefix, 20, 1e-3, None)
        if text == expected:
            continue
        where = f"predict with the prefix {prefix!r} at temperature 0.001 wrote {text!r}, expected {expected!r}"
        # At temperature 1 (the temperature dropped), two continuations of "h" coincide with
        # probability 1.4e-6 (285 equal pairs among 20,000 draws): then the message is the
        # generic one below, and the test fails all the same.
        if text != again:
            raise CheckFailure(f"{where}, and {again!r} when called again: at temperature 0.001 every character "
                               "is the most likely one, the same each time. Pass temperature on to sample.")
        known = [(prefix + prefix[-1], f"after {prefix + prefix[-1]!r}: feed prefix[:-1] into the state, then "
                                       "sample from the last character, which sample reads as its first input")]
        if len(prefix) > 1:
            known.append((prefix[-1], f"after {prefix[-1]!r} alone: the state must read the whole prefix"))
        cause = next((f"; that is what the model writes {why}." for other, why in known
                      if text == reference(params, char_to_ix, ix_to_char, other, 20, 1e-3, np.random.default_rng(0))),
                     None)
        raise CheckFailure(f"{where}{cause}" if cause else
                           f"{where}. Feed the prefix one character at a time (one one-hot per step, each "
                           "updating h from a zero state), then sample from its last character.")
