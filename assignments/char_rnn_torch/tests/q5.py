"""q5: sample.  The sampler is judged with models of the checks' own making
(``lab_checks.SamplingModel``), never with the notebook's CharRNN, whose bugs are q2's: one
whose logits are fixed (the draws' distribution), one that remembers the last 'a' or 'b' it
read (whether the sampler reads the whole prime and carries the hidden state)."""


@public(points=1)
def test_sample_returns_prime_and_new_characters(env, sample):
    from lab_checks import SamplingModel, check_sample_remembers, sampled
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import notebook_torch
    check_callable("sample", sample)
    torch = notebook_torch(env)
    model = SamplingModel(env, "constant").model
    what = "sample(model, chars, 'a', 30, temperature=1.0, generator=torch.Generator().manual_seed(0))"
    texts = [sampled(sample, what, model, "a", 30, 1.0, 0, torch) for _ in range(2)]
    if texts[0] != texts[1]:
        raise CheckFailure("sample: two calls with generators seeded alike gave different texts "
                           f"({texts[0]!r}, {texts[1]!r}); draw with torch.multinomial(..., generator=generator).")
    check_sample_remembers(env, sample, "a")


@hidden(points=1)
def test_the_whole_prime_is_read(env, sample):
    from lab_checks import check_sample_remembers
    # 'b', then 'a', then 'c': the model writes 'c' only if it read the prime's 'a'; after
    # its first character alone it writes 'd', after its last alone 'e'.
    check_sample_remembers(env, sample, "bac")


@hidden(points=1)
def test_draws_follow_softmax_with_temperature(env, sample):
    import torch
    from lab_checks import SAMPLING_CHARS, SCORES, SamplingModel, sampled
    from rnnlab_checks.sampling import check_draws_follow
    from rnnlab_checks.torch_models import notebook_torch
    model = SamplingModel(env, "constant").model
    for temperature, seed in ((1.0, 1), (0.5, 2)):
        what = f"sample(model, chars, 'a', 2000, temperature={temperature})"
        text = sampled(sample, what, model, "a", 2000, temperature, seed, notebook_torch(env))
        draws = [SAMPLING_CHARS.index(ch) for ch in text[1:]]
        # The model's logits are SCORES whatever it reads: each draw is i.i.d. from softmax(SCORES / T).
        check_draws_follow("sample", draws, torch.softmax(torch.tensor(SCORES) / temperature, dim=0).numpy(), 1e-5,
                           f"at temperature {temperature}, with scores {list(SCORES)} for every character")


@hidden(points=1)
def test_sampling_in_evaluation_mode_without_gradients(env, sample):
    from lab_checks import SamplingModel, sampled
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import notebook_torch
    torch = notebook_torch(env)
    observed = SamplingModel(env, "remembering", observe=True)
    observed.model.train()  # as train() leaves a model
    sampled(sample, "sample(model, chars, 'ab', 5)", observed.model, "ab", 5, 1.0, 0, torch)
    for call in observed.calls:
        if call["training"]:
            raise CheckFailure(f"sample: the model read {call['read']!r} in training mode, where its dropout is "
                               "active: call model.eval() before the first character.")
        if call["gradients"]:
            raise CheckFailure(f"sample: the model read {call['read']!r} with gradients enabled, so torch recorded a "
                               "graph of every step: sample under torch.no_grad().")
