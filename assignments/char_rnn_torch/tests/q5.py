"""q5: sample.  The primes are one character long, so that a model with its batch and time
dimensions mixed up (q2) still samples here; a model that remembers what it read shows
whether the sampler carries the hidden state from one drawn character to the next."""


@public(points=1)
def test_sample_returns_prime_and_new_characters(env, CharRNN, sample):
    from lab_checks import check_sample_remembers, constant_output_model, remembering_model
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import notebook_torch
    check_callable("sample", sample)
    torch = notebook_torch(env)
    model, chars, _ = constant_output_model(env, CharRNN)
    texts = []
    for _ in range(2):
        what = "sample(model, chars, 'a', 30, temperature=1.0, generator=torch.Generator().manual_seed(0))"
        try:
            texts.append(sample(model, chars, "a", 30, temperature=1.0,
                                generator=torch.Generator().manual_seed(0), device="cpu"))
        except Exception as error:
            raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None
        text = texts[-1]
        if not isinstance(text, str) or not text.startswith("a") or len(text) != 31 or set(text) - set(chars):
            raise CheckFailure(f"{what} should return a str: the prime 'a' followed by 30 characters of chars; "
                               f"got {text!r}.")
    if texts[0] != texts[1]:
        raise CheckFailure("sample: two calls with generators seeded alike gave different texts "
                           f"({texts[0]!r}, {texts[1]!r}); draw with torch.multinomial(..., generator=generator).")
    model, chars = remembering_model(env, CharRNN)
    if model is not None:  # a CharRNN that forgets its state is q2's business
        check_sample_remembers(env, sample, model, chars)


@hidden(points=1)
def test_draws_follow_softmax_with_temperature(env, CharRNN, sample):
    import torch
    from lab_checks import constant_output_model
    from rnnlab_checks.sampling import check_draws_follow
    from rnnlab_checks.torch_models import notebook_torch
    model, chars, scores = constant_output_model(env, CharRNN)
    for temperature, seed in ((1.0, 1), (0.5, 2)):
        text = sample(model, chars, "a", 2000, temperature=temperature,
                      generator=notebook_torch(env).Generator().manual_seed(seed), device="cpu")
        draws = [chars.index(ch) for ch in text[1:]]
        # Every other weight is zero: each draw is i.i.d. from softmax(decoder bias / T).
        check_draws_follow("sample", draws, torch.softmax(scores / temperature, dim=0).numpy(), 1e-5,
                           f"at temperature {temperature}, with scores {scores.tolist()} for every character")


@hidden(points=1)
def test_sampling_runs_without_dropout(env, CharRNN, sample):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import new_model, notebook_torch
    torch = notebook_torch(env)
    chars = list("abcdefg")
    what = "CharRNN(7, embedding_dim=6, hidden_size=6, dropout=0.5)"
    model = new_model(env, CharRNN, what, 7, embedding_dim=6, hidden_size=6, num_layers=1, cell="rnn", dropout=0.5)
    model.train()
    texts = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)  # dropout draws from torch's global generator
        texts.append(sample(model, chars, "a", 200, temperature=1.0,
                            generator=torch.Generator().manual_seed(0), device="cpu"))
    if texts[0] != texts[1]:
        raise CheckFailure(f"sample: for a {what} left in training mode, the same generator gave two different "
                           "texts: dropout was active while sampling. Call model.eval() first (and sample under "
                           "torch.no_grad()).")
