"""q8: sample."""


@public(points=1)
def test_indices_in_range_and_reproducible(env, sample):
    import numpy as np
    from lab_checks import char_rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence, require_implemented
    from rnnlab_checks.fixtures import notebook_generator, random_params
    from rnnlab_checks.reference import reference_globals
    check_callable("sample", sample)
    params = random_params(np.random.default_rng(0), char_rnn_shapes(5, 7))
    with reference_globals(env, ["one_hot", "softmax"]):
        first = sample(params, np.zeros((5, 1)), 2, 40, 1.0, notebook_generator(env, 3))
        again = sample(params, np.zeros((5, 1)), 2, 40, 1.0, notebook_generator(env, 3))
    require_implemented("sample", first)
    if not (is_sequence(first) or isinstance(first, np.ndarray)) or len(first) != 40:
        raise CheckFailure("sample(params, h, seed_ix, n=40, ...) should return a list of 40 indices.")
    if not all(isinstance(ix, (int, np.integer)) and 0 <= ix < 7 for ix in first):
        raise CheckFailure(f"sample: every index must be an int in 0..V-1 (V = 7); got {list(first)[:10]} ...")
    if list(first) != list(again):
        raise CheckFailure("sample: two calls with generators of the same seed drew different characters; "
                           "draw with the rng you are given (rng.choice), not with np.random.")
    with reference_globals(env, ["one_hot", "softmax"]):
        try:
            fresh = [list(sample(params, np.zeros((5, 1)), 2, 40)) for _ in range(2)]
        except (AttributeError, TypeError) as error:
            raise CheckFailure(f"sample(params, h, seed_ix, n) without an rng raised {type(error).__name__}: "
                               f"{error}. With rng=None, draw with a fresh generator: rng = "
                               "np.random.default_rng() if rng is None else rng.") from None
    # Two correct samplers' 40 draws coincide with probability below (the largest sum over
    # the characters of p^2 on this model, 0.51)^40 = 2e-12.
    if fresh[0] == fresh[1]:
        raise CheckFailure("sample: two calls without an rng drew the same 40 characters; with rng=None, draw "
                           "with a fresh generator, np.random.default_rng() (no seed), not one of a fixed seed.")


@hidden(points=1)
def test_draws_follow_the_tempered_softmax(env, sample):
    import numpy as np
    from rnnlab_checks.fixtures import notebook_generator
    from rnnlab_checks.reference import judge_fastest_first, trusted
    from rnnlab_checks.sampling import check_draws_follow
    softmax = trusted(env, "softmax")
    # With U = W = 0 the hidden state is tanh(b) at every step, so every draw comes from the
    # same distribution softmax((V tanh(b) + c) / T) and a long sample is i.i.d.
    rng = np.random.default_rng(1)
    U, W, V, b, c = np.zeros((4, 6)), np.zeros((4, 4)), rng.normal(size=(6, 4)), rng.normal(size=(4, 1)), \
        np.array([[1.2], [0.9], [0.6], [0.2], [-0.3], [-0.8]])
    scores = V @ np.tanh(b) + c
    # A correct sampler fails this at the significance 1e-5: one submission in 50,000 (the
    # reference's p-values here are 0.23 at T = 1 and 0.43 at T = 0.5).  Always taking the
    # argmax, or ignoring T, gives p < 1e-30.
    def follows(pieces):
        for temperature, seed in ((1.0, 11), (0.5, 12)):
            with pieces():
                draws = sample((U, W, V, b, c), np.zeros((4, 1)), 0, 2000, temperature, notebook_generator(env, seed))
            check_draws_follow("sample", draws, softmax(scores / temperature), 1e-5, f"at temperature {temperature}")

    judge_fastest_first(env, ["one_hot", "softmax"], follows)


@hidden(points=1)
def test_low_temperature_takes_the_most_likely_character(env, sample):
    import numpy as np
    from lab_checks import char_rnn_shapes, greedy_without_feedback
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.fixtures import notebook_generator, random_params
    from rnnlab_checks.reference import reference_globals, trusted
    reference_sample = trusted(env, "sample")
    params = random_params(np.random.default_rng(2), char_rnn_shapes(8, 9), scale=1.0)
    h = np.tanh(np.random.default_rng(3).normal(size=(8, 1)))
    greedy = reference_sample(params, h, 4, 25, 1e-3, np.random.default_rng(0))
    with reference_globals(env, ["one_hot", "softmax"]):
        try:
            cold = list(sample(params, h, 4, 25, 1e-3, notebook_generator(env, 0)))
        except ValueError as error:  # rng.choice refuses probabilities that overflowed to NaN
            raise CheckFailure(f"sample at temperature 0.001 raised ValueError: {error}. Divide the scores by "
                               "the temperature, then take a softmax that subtracts the max.") from None
    if cold != list(greedy):
        known = [(reference_sample(params, np.zeros_like(h), 4, 25, 1e-3, np.random.default_rng(0)),
                  "from a zero state: start from the hidden state h you are given"),
                 (greedy_without_feedback(params, h, 4, 25),
                  "when every step reads seed_ix: feed each drawn character back in as the next input"),
                 ([4, *greedy[:-1]], "with seed_ix first: return the n characters drawn after it")]
        cause = next((f"; that is what the model writes {why}." for written, why in known if cold == list(written)),
                     ". Divide the scores by the temperature before the softmax, and feed each drawn "
                     "character back in.")
        raise CheckFailure(f"sample(params, h, seed_ix=4, n=25, temperature=0.001): the draws should be the most "
                           f"likely character at every step, {list(greedy)}; got {cold}{cause}")
