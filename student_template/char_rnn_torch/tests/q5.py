from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=1, hidden=False)
def test_sample_returns_prime_and_new_characters(env, sample):
    from lab_checks import SamplingModel, check_sample_remembers, sampled
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import notebook_torch
    check_callable('sample', sample)
    torch = notebook_torch(env)
    model = SamplingModel(env, 'constant').model
    what = "sample(model, chars, 'a', 30, temperature=1.0, generator=torch.Generator().manual_seed(0))"
    texts = [sampled(sample, what, model, 'a', 30, 1.0, 0, torch) for _ in range(2)]
    if texts[0] != texts[1]:
        raise CheckFailure(f'sample: two calls with generators seeded alike gave different texts ({texts[0]!r}, {texts[1]!r}); draw with torch.multinomial(..., generator=generator).')
    check_sample_remembers(env, sample, 'a')

