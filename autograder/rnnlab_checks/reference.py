"""Access to the reference solution, which ships in the autograder zip and nowhere else."""

import importlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

# The package the build puts the lab's reference in, with what its checks read: the
# reference module itself, whatever the lab is called, and the fixtures frozen at build time.
REFERENCE_PACKAGE = "rnnlab_reference"
REFERENCE_MODULE = "solution"
FIXTURES_FOLDER = "fixtures"
# The reference's training functions, which no check may call while grading.
TRAINING_PREFIX = "train"
# Where the grader tells the checks which notebook functions passed every case of every
# question that takes them, earlier in the same grading (names, comma-separated).
PROVEN_VARIABLE = "RNNLAB_PROVEN"


def reference_solution():
    """The lab's reference module while grading, or None in a student's notebook.

    Only a missing ``rnnlab_reference`` means a notebook: a module the reference itself
    fails to import is an error, or the checks would quietly judge with the student's code.
    Its training functions (``train...``) raise: a model trained while grading depends on the
    rounding of the grader's CPU, so a check works on a fixture frozen at build time instead."""
    try:
        module = importlib.import_module(f"{REFERENCE_PACKAGE}.{REFERENCE_MODULE}")
    except ModuleNotFoundError as error:
        if error.name not in (REFERENCE_PACKAGE, f"{REFERENCE_PACKAGE}.{REFERENCE_MODULE}"):
            raise
        if not _reference_put_beside_otters_runner():
            return None
        module = importlib.import_module(f"{REFERENCE_PACKAGE}.{REFERENCE_MODULE}")
    for name, value in list(vars(module).items()):
        if name.startswith(TRAINING_PREFIX) and callable(value) and not isinstance(value, _RefusedTraining):
            setattr(module, name, _RefusedTraining(name))
    return module


def _reference_put_beside_otters_runner():
    """Under otter's own runner (``otter run -a <lab>-autograder.zip``, ``otter grade``), put
    the zip's reference on the path, and say whether it did.  There the tests run in the
    notebook's process, in Gradescope's layout ``<root>/submission``, with the zip unpacked
    beside it in ``<root>/source``, where the reference is (rnnlab's runner gives the reference
    to its checker alone; a student's folder has no ``../source/rnnlab_reference``)."""
    here = Path.cwd()
    source = here.parent / "source"
    if here.name != "submission" or not (source / REFERENCE_PACKAGE / f"{REFERENCE_MODULE}.py").is_file():
        return False
    sys.path.insert(0, str(source))
    importlib.invalidate_caches()
    return True


class _RefusedTraining:
    """Stands in for a reference training function while grading."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"a check called the reference's {self.name} while grading: what a check needs "
                           "from training is frozen when the lab is built (assignments/<lab>/fixtures.py); "
                           "a check may train only the student's own loop")


def fixture(name):
    """The arrays the build froze as ``name`` (a dict: array name -> array), for a hidden test."""
    import numpy as np

    package = importlib.import_module(REFERENCE_PACKAGE)
    path = Path(package.__file__).parent / FIXTURES_FOLDER / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"the autograder zip has no fixture {name!r}: it was built without the lab's "
                                "fixtures.py; rebuild it with rnnlab build")
    with np.load(path, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def trusted(env, name):
    """The reference ``name`` while grading, else the notebook's own (for student feedback).

    A check of one question uses it for the functions of the other questions it depends on,
    so that a bug costs points only on the question where it is.
    """
    reference = reference_solution()
    return getattr(reference, name) if reference is not None else env.get(name)


def reference_globals(env, names):
    """While grading, swap the notebook globals ``names`` for the reference versions.

    A student function that calls other notebook functions (a training loop calling
    ``forward_pass``) looks them up in the notebook's globals at call time, so this judges
    that function alone.  In a student's notebook (no reference) nothing is swapped.
    """
    reference = reference_solution()
    return swapped_globals(env, {} if reference is None else {n: getattr(reference, n) for n in names})


def proven(names):
    """The names of ``names`` whose every question (each test file that takes the function
    as an argument) passed in full earlier in this grading, as the grader says; none in a
    notebook or under otter's own runner."""
    said = set(filter(None, os.environ.get(PROVEN_VARIABLE, "").split(",")))
    return [name for name in names if name in said]


def judge_fastest_first(env, names, check):
    """Run ``check(pieces)`` on a student function that calls the notebook functions ``names``
    (a training loop calling ``forward_pass``...); ``pieces()`` is a context that swaps those
    notebook globals for as long as the function runs.  The verdict is ``check``'s.

    While grading, the fast path goes first: the student's own pieces where they are proven
    (``proven``), the reference's for the others, so that a correct submission's loop runs
    in its kernel without a call to the checks for every step.  A pass there stands: ``check``
    judges what the function returned with the reference's code, never with a number the
    loop merely reports.  Anything else, and wherever nothing is proven, the confirming path
    decides, with its own messages: every piece the reference's (``reference_globals``).  In
    a student's notebook, the student's own pieces alone."""
    reference = reference_solution()
    if reference is None:
        return check(lambda: swapped_globals(env, {}))
    own = set(proven(names))
    if own:
        fast = {n: getattr(reference, n) for n in names if n not in own}
        try:
            return check(lambda: swapped_globals(env, fast))
        except Exception:  # noqa: BLE001 - the confirming path decides, and says why
            pass  # a kernel that died fails the confirming path's first call again
    return check(lambda: reference_globals(env, names))


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
        package = importlib.import_module(REFERENCE_PACKAGE)
    except ModuleNotFoundError:
        return corpora.load_corpus(name)
    return corpora.load_corpus(name, Path(package.__file__).parent / "data" / corpora.CORPORA[name].filename)


def forward_for_backward(env, name, *args):
    """What a backward check feeds the student's backward: the student's own forward result
    (their cache layout, their containers) when it matches the trusted forward's wherever
    that is an array, else the trusted forward's, so that a forward bug is not charged to
    the backward."""
    from .arrays import require_implemented

    expected = trusted(env, name)(*args)
    require_implemented(name, expected)  # in a notebook, the student's own forward
    try:
        result = env[name](*args)
        if len(result) == len(expected) and all(map(_same_values, result, expected)):
            return result
    except Exception:  # a broken forward is the forward question's business
        pass
    return expected


def _same_values(value, expected):
    import numpy as np

    from .arrays import same_array

    if isinstance(expected, dict):  # per-step dicts (xs, hs, ps): the same steps, the same values
        return isinstance(value, dict) and set(value) == set(expected) and all(
            _same_values(value[k], expected[k]) for k in expected)
    try:
        np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return True  # not an array (a cache of the student's own layout): nothing to compare
    return same_array(value, expected, rtol=1e-5, atol=1e-8)
