"""Checks of this lab alone: the shapes of its parameters, and a^n b continuations."""

from rnnlab_checks import CheckFailure


def rnn_shapes(hidden_size, vocab_size):
    """Shapes of (U, V, W, b_hidden, b_out)."""
    return [(hidden_size, vocab_size), (hidden_size, hidden_size), (vocab_size, hidden_size),
            (hidden_size, 1), (vocab_size, 1)]


def lstm_shapes(hidden_size, vocab_size):
    """Shapes of (W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v)."""
    z = hidden_size + vocab_size
    return [(hidden_size, z)] * 4 + [(vocab_size, hidden_size)] + [(hidden_size, 1)] * 4 + [(vocab_size, 1)]


def check_anbn_generation(function, generate, params, word_to_idx, idx_to_word,
                          values_of_n=range(1, 12), allowed_misses=1):
    """After the prompt a^n b, a trained model must emit b^(n-1) EOS.

    ``generate(params, prompt, word_to_idx, idx_to_word)`` returns the generated words.
    At most ``allowed_misses`` values of n may go wrong.
    """
    misses = []
    for n in values_of_n:
        prompt = ["a"] * n + ["b"]
        generated = list(generate(params, prompt, word_to_idx, idx_to_word))
        if generated != ["b"] * (n - 1) + ["EOS"]:
            misses.append((n, generated))
    if len(misses) > allowed_misses:
        n, generated = misses[0]
        shown = " ".join(generated[:15]) + (" ..." if len(generated) > 15 else "")
        raise CheckFailure(f"{function}: the trained model continues a^n b correctly for only "
                           f"{len(values_of_n) - len(misses)} of {len(values_of_n)} values of n "
                           f"({'all' if not allowed_misses else f'at least {len(values_of_n) - allowed_misses}'} "
                           f"needed); for n = {n} it "
                           f"generated '{shown}' instead of {n - 1} b's and EOS.")
