from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=1, hidden=False)
def test_greedy_continuation(env, greedy_generate):
    import numpy as np
    from lab_checks import rnn_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence
    from rnnlab_checks.fixtures import random_params
    from rnnlab_checks.reference import reference_globals, trusted
    check_callable('greedy_generate', greedy_generate)
    forward_pass = trusted(env, 'forward_pass')
    word_to_idx = {'a': 0, 'b': 1, 'EOS': 2, 'UNK': 3}
    idx_to_word = {i: w for w, i in word_to_idx.items()}
    for seed in range(6):
        params = random_params(np.random.default_rng(seed), rnn_shapes(6, 4), scale=1.5)
        prompt = ['a', 'a', 'b']
        with reference_globals(env, ['forward_pass', 'one_hot_encode', 'one_hot_encode_sequence']):
            generated = greedy_generate(params, prompt, word_to_idx, idx_to_word, max_length=8)
        if not is_sequence(generated):
            raise CheckFailure(f'greedy_generate should return a list of words, got {generated!r:.60}.')
        generated = list(generated)
        words = prompt + generated
        for k, word in enumerate(generated):
            inputs = np.eye(4)[[word_to_idx[w] for w in words[:len(prompt) + k]]][:, :, None]
            probs = forward_pass(inputs, np.zeros((6, 1)), params)[0][-1]
            best = idx_to_word[int(np.argmax(probs))]
            if word != best:
                raise CheckFailure(f'greedy_generate: after {words[:len(prompt) + k]} the most likely next word is {best!r} but you generated {word!r} (seed {seed}); feed each generated word back in and carry the hidden state.')
            if word == 'EOS' and k != len(generated) - 1:
                raise CheckFailure("greedy_generate: kept generating after 'EOS'; stop there.")
        if generated[-1:] != ['EOS'] and len(generated) != 8:
            raise CheckFailure(f"greedy_generate(max_length=8) returned {len(generated)} words and no 'EOS' at the end; go on until 'EOS' (included) or max_length new words, and stop there.")

