"""Shape, type, finiteness and value checks with messages that name what was expected."""

import numpy as np

from .failures import CheckFailure

# Values computed in float64 by the same formulas agree to about 1e-12; 1e-7 absorbs a
# different but valid order of summation and still catches every value bug of the catalogue.
VALUE_RTOL = 1e-7
VALUE_ATOL = 1e-9


def check_callable(name, obj):
    """Fail unless the notebook defines ``name`` as a function or class."""
    if obj is None:
        raise CheckFailure(f"{name} is not defined: run the cell that defines it (and the cells above it).")
    if not callable(obj):
        raise CheckFailure(f"{name} should be a function, but it is a {type(obj).__name__}.")


def require_implemented(what, value):
    """Fail when a stub's ``None`` or ``...`` came back instead of a result."""
    if value is None or value is Ellipsis:
        raise CheckFailure(f"{what} returned {value!r}: it is not implemented yet.")


def returned(what, value, names):
    """``value``, which ``what`` returned, as a tuple of ``len(names)`` items, or a failure
    that says what came back instead (a stub's ``None``, a single value, too few)."""
    require_implemented(what, value)
    if not is_sequence(value) or len(value) != len(names):
        got = f"{len(value)} items" if is_sequence(value) else f"a {type(value).__name__}"
        raise CheckFailure(f"{what} should return a tuple ({', '.join(names)}); it returned {got}.")
    return tuple(value)


def as_array(what, value):
    """``value`` as a float64 array, or a failure that says what came back instead."""
    require_implemented(what, value)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CheckFailure(f"{what} should be a numeric array, got {type(value).__name__} ({error}).")


def as_number(what, value):
    """``value`` as a float (a NumPy scalar or a one-element array will do), or a failure."""
    array = as_array(what, value)
    if array.size != 1:
        raise CheckFailure(f"{what} should be a number, got an array of shape {array.shape}.")
    return float(array.reshape(()))


def check_shape(what, value, expected_shape):
    """Fail unless ``value`` is an array of ``expected_shape``; returns it as float64."""
    array = as_array(what, value)
    if array.shape != tuple(expected_shape):
        raise CheckFailure(f"{what} has shape {array.shape}, expected {tuple(expected_shape)}.")
    return array


def check_finite(what, value):
    """Fail if ``value`` holds NaN or inf."""
    array = as_array(what, value)
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise CheckFailure(f"{what} contains NaN or inf (first at index {tuple(int(i) for i in bad)}).")
    return array


def same_array(value, expected, rtol=VALUE_RTOL, atol=VALUE_ATOL):
    """Whether ``value`` and ``expected`` are numeric arrays of one shape and close in value:
    the yes-or-no form of ``check_close``, for a check that decides what to compare next."""
    try:
        value, expected = np.asarray(value, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=rtol, atol=atol))


def check_close(what, value, expected, rtol=VALUE_RTOL, atol=VALUE_ATOL):
    """Fail unless ``value`` matches ``expected`` in shape and value; names the worst index."""
    expected = np.asarray(expected, dtype=np.float64)
    array = check_finite(what, check_shape(what, value, expected.shape))
    excess = np.abs(array - expected) - (atol + rtol * np.abs(expected))
    if np.any(excess > 0):
        worst = np.unravel_index(int(np.argmax(excess)), expected.shape)
        index = tuple(int(i) for i in worst)
        got, wanted = f"{array[worst]:.6g}", f"{expected[worst]:.6g}"
        if got == wanted:  # a tiny tolerance: show the digits where they differ
            got, wanted = f"{array[worst]:.16g}", f"{expected[worst]:.16g}"
        raise CheckFailure(f"{what} is wrong at index {index}: got {got}, expected {wanted}.")
    return array


def check_sequence_of_arrays(what, values, length, shape):
    """Fail unless ``values`` is a sequence of ``length`` arrays, each of ``shape``."""
    require_implemented(what, values)
    if not (is_sequence(values) or isinstance(values, np.ndarray)):
        raise CheckFailure(f"{what} should be a list of {length} arrays, got {type(values).__name__}.")
    if len(values) != length:
        raise CheckFailure(f"{what} has {len(values)} entries, expected {length}.")
    return [check_shape(f"{what}[{t}]", v, shape) for t, v in enumerate(values)]


def check_probabilities(what, columns):
    """Fail unless every column is a probability distribution (non-negative, sums to 1)."""
    for t, column in enumerate(columns):
        column = check_finite(f"{what}[{t}]", column)
        if column.min() < 0:
            raise CheckFailure(f"{what}[{t}] has a negative entry ({column.min():.6g}); a softmax output "
                               "is never negative.")
        if abs(column.sum() - 1) > 1e-6:
            raise CheckFailure(f"{what}[{t}] sums to {column.sum():.12g}, not 1; each output is a softmax "
                               "over the vocabulary.")


def arguments_after(function, arguments):
    """The positional ``arguments`` of the last call of ``function`` as that call left them.

    In a notebook they are the caller's own objects.  While grading, the function runs in
    the student's kernel on copies, and this is what the call did to those copies (the
    checks' own arrays never change).
    """
    after = getattr(function, "arguments_after_call", None)
    return after[0] if after is not None else arguments


def is_sequence(value):
    """A list or a tuple (what the tests accept wherever a sequence is returned)."""
    return isinstance(value, (list, tuple))
