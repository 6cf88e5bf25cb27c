"""What this lab's checks need from training, made once when the lab is built.

q8 judges ``greedy_generate`` on an RNN that has learnt to count: trained here, by the
reference, and frozen into the autograder zip, so that grading only runs it forward.  The
build keeps a model only if the reference continues every a^n b right with a clear margin
between the two likeliest words at each step, which no platform's rounding can flip.
"""

import numpy as np

VALUES_OF_N = range(1, 12)
PARAMETERS = ("U", "V", "W", "b_hidden", "b_out")
# Smallest log-probability gap (nats) between the two likeliest next words on every step of
# every continuation.  Float64 rounding moves these log-probabilities by about 1e-13 across
# BLAS kernels, float32 by about 1e-5; 0.1 is ten thousand times the larger.  The reference
# after 20 epochs, seeds 0-4: 2.5-4.7.
MIN_GAP = 0.1


def continuation_gaps(reference, params, word_to_idx, idx_to_word):
    """For each n, the greedy continuation of a^n b by the reference RNN, and the smallest gap
    between the two likeliest words (in log-probability) at any of its steps."""
    hidden_size = params[1].shape[0]
    result = {}
    for n in VALUES_OF_N:
        words, generated, gaps = ["a"] * n + ["b"], [], []
        while len(generated) < 30 and generated[-1:] != ["EOS"]:
            inputs = reference.one_hot_encode_sequence(words + generated, len(idx_to_word), word_to_idx)
            probs = reference.forward_pass(inputs, np.zeros((hidden_size, 1)), params)[0][-1].ravel()
            second, first = np.argsort(probs)[-2:]
            gaps.append(float(np.log(probs[first]) - np.log(probs[second])))
            generated.append(idx_to_word[int(first)])
        result[n] = (generated, min(gaps))
    return result


def counting_rnn(reference):
    """The RNN of q8: the reference's ``train_rnn`` (20 epochs) on the lab's data, from the
    first seed whose model continues every a^n b (n = 1..11) with b^(n-1) EOS by a gap of at
    least ``MIN_GAP``.  Returns its parameters ``U, V, W, b_hidden, b_out`` in float64, and
    ``words``, its vocabulary in the order of its indices."""
    sequences = reference.generate_dataset(num_sequences=256, max_n=11, seed=42)
    word_to_idx, idx_to_word, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, val_set, _ = reference.create_datasets(sequences)
    for seed in range(10):
        params, _, _ = reference.train_rnn(train_set, val_set, word_to_idx, vocab_size, num_epochs=20, seed=seed)
        continuations = continuation_gaps(reference, params, word_to_idx, idx_to_word)
        if all(generated == ["b"] * (n - 1) + ["EOS"] and gap >= MIN_GAP
               for n, (generated, gap) in continuations.items()):
            arrays = dict(zip(PARAMETERS, (np.asarray(p, dtype=np.float64) for p in params)))
            return {**arrays, "words": np.array([idx_to_word[i] for i in range(vocab_size)])}
    raise RuntimeError("no seed of 0-9 trained an RNN that continues every a^n b with a clear margin")


FIXTURES = {"counting_rnn": counting_rnn}
