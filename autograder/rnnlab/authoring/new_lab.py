"""``rnnlab new LAB``: a new lab laid out, ready to build.

It writes the reference ``solutions/LAB.py`` (a set-up section and one question's section:
a numerically stable softmax, its solution region marked) and the folder
``assignments/LAB/``: ``narrative.md`` placing both sections, ``lab.toml``,
``tests/q1.py`` (one public and one hidden test) and ``variants.py`` (one buggy variant
that loses points on q1).  The author then rewrites them into the lab they mean; the lab
builds and grades as written (``rnnlab build LAB``).

The templates below are the files as written, with ``{lab}`` standing for the lab's name.
"""

import keyword
import re
from pathlib import Path

from .labs import AuthoringError, ROOT

SOLUTION = '''\
"""Reference solution of the lab ``{lab}``.

The file is cut into notebook cells at ``# %% [name]`` lines, which
``assignments/{lab}/narrative.md`` places.  In the student notebook, everything between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes ``...``: the signature and the
docstring are what the student reads, so the docstring gives the shapes.
"""

# %% [setup]
import numpy as np


# %% [softmax]
def softmax(z):
    """Softmax over axis 0 of the scores ``z``, of shape (V, k): each of the k columns
    becomes a probability distribution over V classes (shape (V, k), every entry in [0, 1],
    every column summing to 1).

    Subtract each column's maximum before ``np.exp``: the softmax is unchanged, and scores
    of +-1000 no longer overflow.
    """
    # BEGIN SOLUTION
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)
    # END SOLUTION
'''

NARRATIVE = '''\
# Lab {lab}

Write each function below, then run `grader.check("q1")` (and so on) after it: it says
which check failed and where to look. Arrays are NumPy arrays; each docstring gives the
shapes.

<!-- code: setup -->

## 1. A softmax that does not overflow

`np.exp(1000)` is infinite. Subtracting a column's maximum from each of its scores leaves
the softmax unchanged and keeps every exponent at 0 or below.

<!-- question: q1 -->
Write `softmax`.

<!-- solution: softmax -->
'''

LAB_TOML = '''\
# What rnnlab needs to know about this lab beside its narrative, tests and reference.

# The texts its checks read (rnnlab_checks.corpora): none.
corpora = []

[student]
# What a stub's failing check says for one question, in the notebook as handed out.
unfilled = { question = "q1", message = "returned None: it is not implemented yet" }
'''

TESTS_Q1 = '''\
"""q1: softmax.

A test takes the notebook's globals it needs by their names (and ``env``, the whole
namespace).  It fails with ``CheckFailure`` (the checks of ``rnnlab_checks`` raise it),
whose message is all the student sees: say what is wrong and where to look.
"""


@public(points=1)
def test_extreme_scores_stay_finite(softmax):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_close, check_shape
    check_callable("softmax", softmax)
    result = check_shape("softmax([[1000], [0], [-1000]])", softmax(np.array([[1000.0], [0.0], [-1000.0]])), (3, 1))
    if not np.all(np.isfinite(result)):
        raise CheckFailure("softmax([[1000], [0], [-1000]]) contains NaN or inf: np.exp(1000) overflows. "
                           "Subtract each column's maximum from its scores before np.exp.")
    check_close("softmax([[1000], [0], [-1000]])", result, [[1.0], [0.0], [0.0]])


@hidden(points=1)
def test_every_column_is_a_distribution(env, softmax):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_close, check_shape
    from rnnlab_checks.reference import trusted
    scores = np.random.default_rng(0).normal(0, 3, (5, 3))
    scores[:, 2] = [1000, 999, -1000, 0, 998]
    result = check_shape("softmax of a (5, 3) score matrix", softmax(scores), (5, 3))
    if not np.all(np.isfinite(result)):
        raise CheckFailure("softmax of a (5, 3) score matrix contains NaN or inf: np.exp(1000) overflows. "
                           "Subtract each column's maximum from its scores before np.exp.")
    check_close("softmax of a (5, 3) score matrix, column by column", result, trusted(env, "softmax")(scores))
'''

VARIANTS = '''\
"""Realistic buggy versions of the reference: each must lose points on its question only,
with a failure message that contains its ``message``.

``Variant(name, question, find, replace, message)``: ``find`` is a text that occurs once in
the reference's code, ``replace`` the bug put in its place.  The first entry is the buggy
example submission that ``rnnlab demo`` grades.
"""

from rnnlab.authoring.variants import Variant

VARIANTS = [
    Variant("softmax_without_max", "q1",
            "e = np.exp(z - np.max(z, axis=0, keepdims=True))", "e = np.exp(z)",
            "np.exp(1000) overflows"),
]
'''


def lab_files(lab):
    """``{path relative to the checkout: text}`` of the files of a new lab ``lab``."""
    folder = f"assignments/{lab}"
    templates = {f"solutions/{lab}.py": SOLUTION, f"{folder}/narrative.md": NARRATIVE,
                 f"{folder}/lab.toml": LAB_TOML, f"{folder}/tests/q1.py": TESTS_Q1,
                 f"{folder}/variants.py": VARIANTS}
    return {path: text.replace("{lab}", lab) for path, text in templates.items()}


def check_name(lab, root=None):
    """Refuse (``AuthoringError``, one line) a name that cannot be a new lab in the checkout
    ``root`` (default: this one): not a Python identifier (the reference is imported as a
    module), taken by a lab already, or found in rnnlab's own code or another lab's, which
    ``tests/test_layout.py`` requires to name no lab."""
    root = Path(root or ROOT)
    if not lab.isidentifier() or keyword.iskeyword(lab):
        suggestion = "_".join(re.findall(r"[A-Za-z0-9]+", lab))
        fix = f"try {suggestion}" if suggestion.isidentifier() and not keyword.iskeyword(suggestion) else ""
        raise AuthoringError(repr(lab), None, "not a lab name: a lab is named like a Python module (letters, digits "
                             "and _, not a digit first, not a keyword)", fix)
    for taken in (root / "solutions" / f"{lab}.py", root / "assignments" / lab):
        if taken.exists():
            raise AuthoringError(taken, None, f"exists already: there is a lab {lab} (or a part of one)",
                                 "choose another name, or delete it first")
    for path in [*sorted((root / "autograder").rglob("*.py")), *sorted((root / "assignments").rglob("*.py"))]:
        if lab in path.read_text():
            raise AuthoringError(repr(lab), None, f"a word rnnlab's code already uses ({path.relative_to(root)}), "
                                 "and a lab's name may occur nowhere outside its folder (tests/test_layout.py)",
                                 "choose a more specific name")


def new_lab(lab, root=None):
    """Write the files of a new lab ``lab`` into the checkout ``root`` (default: this one),
    after ``check_name``; returns their paths, relative to ``root``."""
    root = Path(root or ROOT)
    check_name(lab, root)
    written = []
    for relative, text in lab_files(lab).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(Path(relative))
    return written
