from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=1, hidden=False)
def test_sample_returns_prime_and_new_characters(env, CharRNN, sample):
    from lab_checks import check_sample_remembers, constant_output_model, remembering_model
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import notebook_torch
    check_callable('sample', sample)
    torch = notebook_torch(env)
    model, chars, _ = constant_output_model(env, CharRNN)
    texts = []
    for _ in range(2):
        what = "sample(model, chars, 'a', 30, temperature=1.0, generator=torch.Generator().manual_seed(0))"
        try:
            texts.append(sample(model, chars, 'a', 30, temperature=1.0, generator=torch.Generator().manual_seed(0), device='cpu'))
        except Exception as error:
            raise CheckFailure(f'{what} raised {type(error).__name__}: {error}') from None
        text = texts[-1]
        if not isinstance(text, str) or not text.startswith('a') or len(text) != 31 or set(text) - set(chars):
            raise CheckFailure(f"{what} should return a str: the prime 'a' followed by 30 characters of chars; got {text!r}.")
    if texts[0] != texts[1]:
        raise CheckFailure(f'sample: two calls with generators seeded alike gave different texts ({texts[0]!r}, {texts[1]!r}); draw with torch.multinomial(..., generator=generator).')
    model, chars = remembering_model(env, CharRNN)
    if model is not None:
        check_sample_remembers(env, sample, model, chars)

