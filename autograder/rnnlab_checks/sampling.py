"""Checks of samplers: counts of draws against the distribution they come from."""

import math
from functools import lru_cache

import numpy as np

from .failures import CheckFailure


def chi_square_p_value(statistic, degrees_of_freedom):
    """P(X >= statistic) for X chi-square with ``degrees_of_freedom``: the regularised upper
    incomplete gamma Q(k/2, x/2), by its power series below x = k/2 + 1 and by its
    continued fraction above (where the series would cancel)."""
    a, x = degrees_of_freedom / 2.0, statistic / 2.0
    if x <= 0:
        return 1.0
    log_prefactor = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = 0
        while abs(term) > abs(total) * 1e-15 and n < 10_000:
            n += 1
            term *= x / (a + n)
            total += term
        return min(1.0, max(0.0, 1.0 - math.exp(log_prefactor) * total))
    # Lentz's method for Q(a, x) = e^-x x^a / Gamma(a) * 1 / (x + 1 - a - 1(1 - a) / (x + 3 - a - ...)).
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    fraction = d
    for n in range(1, 10_000):
        an = -n * (n - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        fraction *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return math.exp(log_prefactor) * fraction


def _bisect(decreasing, target, low, high):
    """The x in [low, high] where ``decreasing(x)`` (a decreasing function) crosses ``target``."""
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if decreasing(middle) > target else (low, middle)
    return (low + high) / 2


def normal_bound(significance):
    """The z beyond which |N(0, 1)| lies with probability ``significance``."""
    return _bisect(lambda z: math.erfc(z / math.sqrt(2)), significance, 0.0, 40.0)


@lru_cache(maxsize=None)
def chi_square_interval(degrees_of_freedom, significance):
    """The interval outside which a chi-square variable with ``degrees_of_freedom`` lies with
    probability ``significance`` (``significance`` / 2 in each tail)."""
    k = degrees_of_freedom
    high = k + 40 * math.sqrt(2 * k) + 100
    upper = _bisect(lambda x: chi_square_p_value(x, k), significance / 2, 0.0, high)
    lower = _bisect(lambda x: chi_square_p_value(x, k), 1 - significance / 2, 0.0, high)
    return lower, upper


def pearson_p_value(counts, probabilities):
    """The p-value of Pearson's chi-square test that ``counts`` (one per outcome) were drawn
    from ``probabilities``; 0 when an outcome of probability 0 came up."""
    counts = np.asarray(counts, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    possible = probabilities > 0
    if np.any(counts[~possible]):
        return 0.0
    expected = probabilities[possible] * counts.sum()
    statistic = float(np.sum((counts[possible] - expected) ** 2 / expected))
    return chi_square_p_value(statistic, int(possible.sum()) - 1)


def check_draws_follow(function, draws, probabilities, significance, what):
    """Fail when the counts of ``draws`` (indices) reject ``probabilities`` in Pearson's
    chi-square test at ``significance``; returns the p-value."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    draws = np.asarray(draws).ravel()
    if draws.size == 0 or draws.dtype.kind not in "iu" or draws.min() < 0 or draws.max() >= len(probabilities):
        raise CheckFailure(f"{function}: {what}, the draws should be character indices 0..{len(probabilities) - 1}; "
                           f"got {draws[:10].tolist()} ...")
    counts = np.bincount(draws, minlength=len(probabilities))
    p_value = pearson_p_value(counts, probabilities)
    if p_value < significance:
        share = ", ".join(f"{c / len(draws):.2f}" for c in counts)
        wanted = ", ".join(f"{p:.2f}" for p in probabilities)
        raise CheckFailure(f"{function}: {what}, {len(draws)} draws came out with frequencies [{share}] "
                           f"but the softmax gives [{wanted}] (chi-square p = {p_value:.2g} < "
                           f"{significance:g}). Draw each character from the softmax of the scores "
                           "divided by the temperature, with the generator you are given.")
    return p_value
