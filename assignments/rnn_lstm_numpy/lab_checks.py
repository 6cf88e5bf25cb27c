"""Checks of this lab alone: the shapes of its parameters, what a wrong gradient clipping
did, and a^n b continuations."""

import numpy as np

from rnnlab_checks import CheckFailure


def rnn_shapes(hidden_size, vocab_size):
    """Shapes of (U, V, W, b_hidden, b_out)."""
    return [(hidden_size, vocab_size), (hidden_size, hidden_size), (vocab_size, hidden_size),
            (hidden_size, 1), (vocab_size, 1)]


def lstm_shapes(hidden_size, vocab_size):
    """Shapes of (W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v)."""
    z = hidden_size + vocab_size
    return [(hidden_size, z)] * 4 + [(vocab_size, hidden_size)] + [(hidden_size, 1)] * 4 + [(vocab_size, 1)]


def how_it_clipped(grads, clipped, max_norm):
    """What a wrong ``clip_gradient_norm`` did to ``grads`` (a list of arrays) to give
    ``clipped``, in words: the factor it scaled them by, or per array, or entry by entry."""
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    clipped = [np.asarray(c, dtype=np.float64) for c in clipped]
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if all(np.allclose(c, np.clip(g, -max_norm, max_norm)) for g, c in zip(grads, clipped)):
        return (f"it cut each entry to +-{max_norm:g} (np.clip), which changes the gradient's direction; "
                f"rescale all of them by max_norm / (their joint norm) instead")
    factors = [float(np.sum(c * g) / np.sum(g * g)) for g, c in zip(grads, clipped)]
    if not all(np.allclose(c, f * g, rtol=1e-4) for g, c, f in zip(grads, clipped, factors)):
        return "what it returned is not the given gradients rescaled"
    if not np.allclose(factors, factors[0], rtol=1e-4):
        if np.allclose(factors, [max_norm / np.linalg.norm(g) for g in grads], rtol=1e-3):
            return ("it scaled each array by max_norm / (its own norm): that clips each array on its own; "
                    "scale all of them by one factor, max_norm / (the norm of all of them together)")
        return f"it scaled the arrays by different factors ({', '.join(f'{f:.4g}' for f in factors)})"
    factor, right = factors[0], max_norm / norm
    for wrong, why in ((max_norm / norm ** 2, "the squared norm (the sum of squares) where the norm is its "
                                               "square root"),
                       (max_norm, "nothing: it multiplied by max_norm"),
                       (norm / max_norm, "the inverse ratio (norm / max_norm)")):
        if np.isclose(factor, wrong, rtol=1e-3):
            return f"it scaled them by {factor:.4g}, expected {right:.4g}: it divided by {why}"
    return f"it scaled them all by {factor:.4g}, expected max_norm / norm = {right:.4g}"


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
