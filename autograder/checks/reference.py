"""Access to the reference solution, which ships in the autograder zip and nowhere else."""

import importlib
from contextlib import contextmanager
from pathlib import Path


def reference_solution(lab):
    """The reference module of ``lab`` while grading, or None in a student's notebook.

    Only a missing ``rnnlab_reference`` means a notebook: a module the reference itself
    fails to import is an error, or the checks would quietly judge with the student's code."""
    try:
        return importlib.import_module(f"rnnlab_reference.{lab}")
    except ModuleNotFoundError as error:
        if error.name not in ("rnnlab_reference", f"rnnlab_reference.{lab}"):
            raise
        return None


def trusted(lab, env, name):
    """The reference ``name`` while grading, else the notebook's own (for student feedback).

    A check of one question uses it for the functions of the other questions it depends on,
    so that a bug costs points only on the question where it is.
    """
    reference = reference_solution(lab)
    return getattr(reference, name) if reference is not None else env.get(name)


def reference_globals(lab, env, names):
    """While grading, swap the notebook globals ``names`` for the reference versions.

    A student function that calls other notebook functions (a training loop calling
    ``forward_pass``) looks them up in the notebook's globals at call time, so this judges
    that function alone.  In a student's notebook (no reference) nothing is swapped.
    """
    reference = reference_solution(lab)
    return swapped_globals(env, {} if reference is None else {n: getattr(reference, n) for n in names})


@contextmanager
def swapped_globals(env, replacements):
    """Set the notebook globals in ``replacements`` (name -> object) for as long as the
    context lasts, then put back what was there."""
    absent = object()
    saved = {name: env.get(name, absent) for name in replacements}
    env.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is absent:
                env.pop(name, None)
            else:
                env[name] = value


def grading_text(name):
    """Corpus ``name`` as the autograder carries it (``rnnlab_reference/data/``), else found
    or downloaded by ``corpora.load_corpus`` (in a student's notebook)."""
    from . import corpora

    try:
        package = importlib.import_module("rnnlab_reference")
    except ModuleNotFoundError:
        return corpora.load_corpus(name)
    return corpora.load_corpus(name, Path(package.__file__).parent / "data" / corpora.CORPORA[name].filename)


def forward_for_backward(lab, env, name, *args):
    """What a backward check feeds the student's backward: the student's own forward result
    (their cache layout, their containers) when it matches the trusted forward's wherever
    that is an array, else the trusted forward's, so that a forward bug is not charged to
    the backward."""
    expected = trusted(lab, env, name)(*args)
    try:
        result = env[name](*args)
        if len(result) == len(expected) and all(map(_same_values, result, expected)):
            return result
    except Exception:  # a broken forward is the forward question's business
        pass
    return expected


def _same_values(value, expected):
    import numpy as np

    if isinstance(expected, dict):  # per-step dicts (xs, hs, ps): the same steps, the same values
        return isinstance(value, dict) and set(value) == set(expected) and all(
            _same_values(value[k], expected[k]) for k in expected)
    try:
        expected = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return True  # not an array (a cache of the student's own layout): nothing to compare
    try:
        value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=1e-5, atol=1e-8))
