"""Learning checks: a loss below a calibrated threshold, and a^n b^n continuations."""

import math

import numpy as np

from .failures import CheckFailure


def check_loss_below(function, what, loss, threshold, unit="token", **baselines):
    """Fail unless ``loss`` is finite and below ``threshold`` nats per ``unit``; the message
    gives it in bits too, beside the ``baselines`` (name -> nats, e.g. ``uniform=1.386``)."""
    loss = float(loss)
    if not math.isfinite(loss):
        raise CheckFailure(f"{function}: the {what} is {loss}; training diverged (NaN or inf).")
    if loss >= threshold:
        context = ", ".join(f"{name.replace('_', ' ')} {value:.3g}" for name, value in baselines.items())
        raise CheckFailure(f"{function}: the {what} is {loss:.4f} nats per {unit} ({loss / math.log(2):.3f} "
                           f"bits), above the threshold {threshold}" + (f" ({context})." if context else "."))


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


def check_loss_fell(function, what, losses, by):
    """Fail unless the recorded ``losses`` are finite and the last is ``by`` below the first."""
    losses = np.asarray(losses, dtype=np.float64).ravel()
    if losses.size == 0 or not np.all(np.isfinite(losses)):
        raise CheckFailure(f"{function}: the {what} is missing or not finite; training diverged.")
    if losses[0] - losses[-1] < by:
        raise CheckFailure(f"{function}: the {what} went from {losses[0]:.2f} to {losses[-1]:.2f}; it "
                           f"should fall by at least {by}.")
