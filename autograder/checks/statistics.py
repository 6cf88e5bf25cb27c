"""Statistical checks of samplers: counts of draws against the distribution they come from."""

import math

import numpy as np

from .failures import CheckFailure


def chi_square_p_value(statistic, degrees_of_freedom):
    """P(X >= statistic) for X chi-square with ``degrees_of_freedom``: one minus the
    regularised lower incomplete gamma P(k/2, x/2), summed as its power series."""
    a, x = degrees_of_freedom / 2.0, statistic / 2.0
    if x <= 0:
        return 1.0
    term = total = 1.0 / a
    n = 0
    while term > total * 1e-15 and n < 10_000:
        n += 1
        term *= x / (a + n)
        total += term
    lower = math.exp(a * math.log(x) - x - math.lgamma(a)) * total
    return max(0.0, 1.0 - lower)


def check_draws_follow(function, draws, probabilities, significance, what):
    """Fail when the counts of ``draws`` (indices) reject ``probabilities`` in Pearson's
    chi-square test at ``significance``."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    counts = np.bincount(np.asarray(draws, dtype=np.int64), minlength=len(probabilities))
    expected = probabilities * len(draws)
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    p_value = chi_square_p_value(statistic, len(probabilities) - 1)
    if p_value < significance:
        share = ", ".join(f"{c / len(draws):.2f}" for c in counts)
        wanted = ", ".join(f"{p:.2f}" for p in probabilities)
        raise CheckFailure(f"{function}: {what}, {len(draws)} draws came out with frequencies [{share}] "
                           f"but the softmax gives [{wanted}] (chi-square p = {p_value:.2g} < "
                           f"{significance}). Draw each character from the softmax of the scores "
                           "divided by the temperature, with the generator you are given.")
    return p_value
