"""Learning checks: a loss below a calibrated threshold, a loss that fell."""

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


def check_loss_fell(function, what, losses, by):
    """Fail unless the recorded ``losses`` are finite and the last is ``by`` below the first."""
    losses = np.asarray(losses, dtype=np.float64).ravel()
    if losses.size == 0 or not np.all(np.isfinite(losses)):
        raise CheckFailure(f"{function}: the {what} is missing or not finite; training diverged.")
    if losses[0] - losses[-1] < by:
        raise CheckFailure(f"{function}: the {what} went from {losses[0]:.2f} to {losses[-1]:.2f}; it "
                           f"should fall by at least {by}.")
