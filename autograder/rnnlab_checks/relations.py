"""How a wrong array relates to the right one, when it does so simply: a constant multiple
(the number of time steps, 2, -1), the transpose, zero, a copy cut off at some bound.  A
student told "yours is exactly 6 times the right gradient, and 6 is the number of time
steps" knows where to look; "wrong at index (1, 0)" alone does not say.
"""

import numpy as np

# The finite differences of a right gradient agree with it to a relative error of at most
# 2.7e-7 in this project's labs (gradients.RELATIVE_TOLERANCE); a relation must hold for the
# whole array to 1e-4 of its norm, which leaves a factor of 370 over that noise, while the
# catalogues' unrelated bugs miss every relation by 0.1 or more of the norm.
RELATION_TOLERANCE = 1e-4
# Common factors named as such (a gradient counted twice, halved, negated).
SMALL_FACTORS = range(2, 11)
# Any factor fits an array of one value: below this many non-zero values only the factors
# above are named.
FEW = 4


def how_it_differs(yours, expected, steps=None, indices=None):
    """A phrase for how ``yours`` relates to ``expected`` as a whole, or None: "is exactly 2
    times the right one", "has the opposite sign", "is transposed: ...", ...

    ``yours`` is the whole array; ``expected`` holds the right values at ``indices`` (a list of
    index tuples; all of them when None).  ``steps``: the number of time steps of the sequence
    it was computed on, for a factor that equals it.
    """
    yours = np.asarray(yours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if indices is None:
        if yours.shape != expected.shape:
            return None
        indices = list(np.ndindex(yours.shape))
        expected = expected.reshape(-1)
    at = np.array([yours[i] for i in indices])
    if at.size == 0 or not (np.all(np.isfinite(at)) and np.all(np.isfinite(expected))) \
            or not np.any(expected):
        return None
    if _close(at, 0 * expected, expected):
        return "is zero everywhere: nothing was added to it"
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1] \
            and _close(np.array([yours.T[i] for i in indices]), expected, expected):
        return "is transposed: your [i, j] holds the right [j, i] (swap the order of the outer product)"
    factor = float(np.dot(at, expected) / np.dot(expected, expected))
    if _close(at, factor * expected, expected):
        return _multiple(factor, steps, np.count_nonzero(expected) >= FEW)
    bound = float(np.max(np.abs(at)))
    if np.any(np.abs(expected) > bound * (1 + 1e-6)) and _close(at, np.clip(expected, -bound, bound), expected):
        return (f"is cut off at +-{bound:.3g}: the right values beyond it were clipped (clip gradients in the "
                "training step, after they are computed, not inside the gradient computation)")
    return None


def _close(values, target, scale):
    return float(np.linalg.norm(values - target)) <= RELATION_TOLERANCE * float(np.linalg.norm(scale))


def _multiple(factor, steps, unnamed_too):
    def near(value):
        return abs(factor - value) <= 1e-3 * abs(value)

    if near(1.0):
        return None
    if near(-1.0):
        return "has the opposite sign (it is -1 times the right one)"
    if steps and steps > 1 and near(steps):
        return (f"is exactly {steps} times the right one, and {steps} is the number of time steps: it is the "
                "gradient of the loss summed over the steps, where the loss is their mean (divide by T)")
    if steps and steps > 1 and near(1.0 / steps):
        return (f"is exactly 1/{steps} of the right one, and {steps} is the number of time steps: it is "
                "divided by T once too often")
    for n in SMALL_FACTORS:
        for sign, word in ((1, ""), (-1, "-")):
            if near(sign * n):
                counted = f" (a term counted {n} times?)" if sign > 0 else ""
                return f"is exactly {word}{n} times the right one{counted}"
            if near(sign / n):
                return f"is exactly {word}1/{n} of the right one"
    if unnamed_too:
        return (f"is {factor:.4g} times the right one everywhere (a factor too many or too few, or a "
                "rescaling such as clipping)")
    return None
