"""Finite-difference gradient checks, in float64, with messages that say where to look.

A loss is a function ``loss(params) -> float`` of a tuple of arrays.  ``check_gradients``
compares analytic gradients of it with central differences: every coordinate of small
parameters, a random subset of coordinates plus random-direction (directional-derivative)
checks of large ones, and names every wrong parameter (one bug does not hide another) with
how its gradient relates to the right one (``relations``).  ``check_bptt`` runs that check on growing prefixes of a sequence to
name the first time step at which backpropagation through time goes wrong.
"""

from dataclasses import dataclass

import numpy as np

from .arrays import require_implemented
from .failures import CheckFailure
from .relations import how_it_differs

EPSILON = 1e-5
# With EPSILON = 1e-5 in float64, the reference gradients of the NumPy RNN/LSTM lab agree with
# central differences to a relative error of at most 2.7e-7 (the full-size LSTM fixture of
# q10); the gradient bugs of its catalogue give 0.81 or more.  1e-5 leaves a factor of 37
# on the reference side.
RELATIVE_TOLERANCE = 1e-5
# Below this size a gradient is compared absolutely (|a - n| / TINY): finite differences
# carry ~1e-11 of rounding noise, which would make relative errors of tiny gradients
# meaningless (with 1e-8 here the same reference reached 4e-6).
TINY = 1e-4
FULL_CHECK_SIZE = 400
SAMPLED_COORDINATES = 60
RANDOM_DIRECTIONS = 4


def relative_error(analytic, numeric):
    """Element-wise |a - n| / max(|a|, |n|, TINY)."""
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), TINY)


def finite_difference_gradient(loss, params, which, index):
    """Central difference dL/dparams[which][index], perturbing a float64 copy."""
    return directional_derivative(loss, params, which, _unit(params[which].shape, index))


def directional_derivative(loss, params, which, direction):
    """Central difference of ``loss`` along ``direction`` in parameter ``which``."""
    def shifted(step):
        moved = [np.array(p, dtype=np.float64, copy=True) for p in params]
        moved[which] = moved[which] + step * direction
        return float(loss(tuple(moved)))

    return (shifted(EPSILON) - shifted(-EPSILON)) / (2 * EPSILON)


def _unit(shape, index):
    unit = np.zeros(shape)
    unit[index] = 1.0
    return unit


@dataclass
class GradientMismatch:
    """The worst disagreement found in one parameter, and how its whole gradient relates to
    the right one (``relations.how_it_differs``; empty when it does not simply)."""

    name: str
    index: tuple
    analytic: float
    numeric: float
    error: float
    relation: str = ""

    def describe(self):
        where = "along a random direction" if self.index == () else f"at index {self.index}"
        return (f"d{self.name} is wrong {where}: yours {self.analytic:.6g}, finite differences "
                f"{self.numeric:.6g} (relative error {self.error:.2g} > {RELATIVE_TOLERANCE:g})")


def find_gradient_mismatches(loss, params, grads, names, seed=0, steps=None, known_mistakes=None):
    """Every parameter whose gradient disagrees with finite differences, in order: a
    ``GradientMismatch`` for the worst coordinate of each (an empty list when all agree).

    ``steps``: the number of time steps the loss is the mean over (a gradient ``steps`` times
    too large is named as such).  ``known_mistakes``: a function giving ``{phrase: gradients}``,
    the gradients known mistakes give (as the reference computes them with each), called only
    once a gradient is wrong; a wrong gradient equal to one of them is described by its phrase.
    """
    rng = np.random.default_rng(seed)
    mismatches, known = [], None
    for which, (param, grad, name) in enumerate(zip(params, grads, names)):
        param, grad = np.asarray(param), np.asarray(grad, dtype=np.float64)
        if param.size <= FULL_CHECK_SIZE:
            indices = list(np.ndindex(param.shape))
        else:
            flat = rng.choice(param.size, SAMPLED_COORDINATES, replace=False)
            indices = [np.unravel_index(i, param.shape) for i in flat]
        numeric = np.array([finite_difference_gradient(loss, params, which, i) for i in indices])
        analytic = np.array([grad[i] for i in indices])
        errors = relative_error(analytic, numeric)
        worst = int(np.argmax(errors))
        mismatch = None
        if errors[worst] > RELATIVE_TOLERANCE:
            mismatch = GradientMismatch(name, tuple(int(k) for k in indices[worst]),
                                        float(analytic[worst]), float(numeric[worst]), float(errors[worst]))
        for _ in range(RANDOM_DIRECTIONS if param.size > FULL_CHECK_SIZE and mismatch is None else 0):
            direction = rng.normal(size=param.shape)
            direction /= np.linalg.norm(direction)
            analytic_d = float(np.sum(grad * direction))
            numeric_d = directional_derivative(loss, params, which, direction)
            error = float(relative_error(analytic_d, numeric_d))
            if error > RELATIVE_TOLERANCE:
                mismatch = GradientMismatch(name, (), analytic_d, numeric_d, error)
                break
        if mismatch is None:
            continue
        if known is None:
            known = known_mistakes() if known_mistakes else {}
        mistakes = [phrase for phrase, wrong in known.items()
                    if np.shape(wrong[which]) == grad.shape
                    and relative_error(analytic, [np.asarray(wrong[which])[i] for i in indices]).max()
                    <= RELATIVE_TOLERANCE]
        mismatch.relation = mistakes[0] if mistakes else (
            how_it_differs(grad, numeric, steps, indices) or "")
        mismatches.append(mismatch)
    return mismatches


def describe_mismatches(mismatches):
    """The mismatches as sentences; those that relate alike to the right gradient are said
    together, with one example."""
    groups = {}
    for mismatch in mismatches:
        groups.setdefault(mismatch.relation or id(mismatch), []).append(mismatch)
    sentences = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            sentences.append(f"{first.describe()}" + (f"; it {first.relation}." if first.relation else "."))
        else:
            named = ", ".join(f"d{m.name}" for m in group[:-1]) + f" and d{group[-1].name}"
            sentences.append(f"{named}: each {first.relation}. For example, {first.describe()}.")
    return " ".join(sentences)


def check_gradients(function, loss, params, grads, names, seed=0, steps=None, known_mistakes=None):
    """Raise ``CheckFailure`` naming ``function`` and every parameter whose gradient is wrong
    (see ``find_gradient_mismatches``)."""
    _check_gradient_shapes(function, params, grads, names)
    mismatches = find_gradient_mismatches(loss, params, grads, names, seed, steps, known_mistakes)
    if mismatches:
        raise CheckFailure(f"{function}: {describe_mismatches(mismatches)}")


def check_bptt(function, loss_for_length, grads_for_length, params, names, num_steps, seed=0, mean=False,
               known_mistakes=None):
    """Gradient check on prefixes of 1, 2, ... ``num_steps`` inputs.

    ``loss_for_length(T)`` returns the loss function of the first T inputs and
    ``grads_for_length(T)`` the student's gradients for them; ``mean``: the loss is the mean
    over the steps; ``known_mistakes(T)``: ``{phrase: gradients}`` of known mistakes on the
    first T inputs (see ``find_gradient_mismatches``).  The first failing prefix names the time step at which
    backpropagation through time first goes wrong, unless every wrong gradient relates
    simply to the right one, which then says more.
    """
    for length in range(1, num_steps + 1):
        grads = grads_for_length(length)
        _check_gradient_shapes(function, params, grads, names)
        mismatches = find_gradient_mismatches(loss_for_length(length), params, grads, names, seed,
                                              length if mean else None,
                                              (lambda: known_mistakes(length)) if known_mistakes else None)
        if not mismatches:
            continue
        if all(m.relation for m in mismatches):
            where = f"on a sequence of {length} step{'s' if length > 1 else ''}"
        elif length == 1:
            where = ("already on a one-step sequence (t = 0), so the error is in the per-step "
                     "gradient, not in what flows back through time")
        else:
            where = (f"on sequences of {length} steps although it is right on {length - 1}: the "
                     f"first wrong step is t = {length - 1}, so look at what carries the "
                     f"gradient from step t = {length - 1} back to t = {length - 2} (the "
                     "dh_next / dC_next terms and which hidden state each step uses)")
        raise CheckFailure(f"{function}: gradients go wrong {where}. {describe_mismatches(mismatches)}")


def _check_gradient_shapes(function, params, grads, names):
    require_implemented(function, grads)
    grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
    if len(grads) != len(params):
        raise CheckFailure(f"{function}: expected {len(params)} gradients "
                           f"({', '.join('d' + n for n in names)}), got {len(grads)}.")
    for param, grad, name in zip(params, grads, names):
        if np.shape(grad) != np.shape(param):
            transposed = ": it is transposed" if np.shape(grad) == np.shape(param)[::-1] else ""
            raise CheckFailure(f"{function}: d{name} has shape {np.shape(grad)}, expected "
                               f"{np.shape(param)} (the shape of {name}){transposed}.")
        if not np.all(np.isfinite(np.asarray(grad, dtype=np.float64))):
            raise CheckFailure(f"{function}: d{name} contains NaN or inf.")
