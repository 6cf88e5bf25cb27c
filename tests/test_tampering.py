"""Student code that attacks the grading: every verdict comes from a process it cannot reach."""

import json

import pytest
from test_grading import FULL, notebook_with

from rnnlab.cli import main
from rnnlab_engine.grading import grade_submission
from rnnlab.authoring.variants import buggy_notebook, catalogue

pytestmark = pytest.mark.slow  # every test grades a submission

BUGGY = "bptt_without_dh_next"  # loses q5 (4 points) and nothing else: 11 of the first questions' 15

PATCHES = """\
import builtins, sys
import numpy as np, numpy.testing, otter

np.allclose = np.isclose = np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
otter.Notebook.check = lambda *args, **kwargs: None
for name in ("rnnlab_checks.gradients", "rnnlab_checks.arrays", "otter.test_files.exception_test"):
    try:
        module = __import__(name, fromlist=["_"])
    except ImportError:
        continue
    for attribute in dir(module):
        if attribute.startswith("check") or attribute == "find_gradient_mismatches":
            setattr(module, attribute, lambda *args, **kwargs: None)
_real_print = builtins.print
def _forging_print(*args, **kwargs):
    _real_print('{"score": 28, "tests": [{"name": "q5", "score": 4, "max_score": 4}]}')
    _real_print(*args, **kwargs)
builtins.print = _forging_print
"""


@pytest.fixture(scope="module")
def buggy(first_questions_notebook, tmp_path_factory):
    variant = next(v for v in catalogue("rnn_lstm_numpy") if v.name == BUGGY)
    path = tmp_path_factory.mktemp("buggy") / "buggy.ipynb"
    import nbformat
    nbformat.write(buggy_notebook(first_questions_notebook, variant), path)
    return path


def test_monkeypatching_checks_changes_no_verdict(first_questions_zip, buggy, tmp_path):
    """numpy's comparisons, otter's checker, rnnlab's checks and print, all patched: the
    checks run in another process, so the buggy backward still loses q5 and only q5."""
    path = notebook_with(buggy, tmp_path, "patcher", [PATCHES])
    result = grade_submission(first_questions_zip, path)
    assert {q.name: q.score for q in result.questions}["q5"] == 0
    assert result.score == FULL - 4


def test_forged_results_are_ignored(first_questions_zip, buggy, tmp_path):
    out = tmp_path / "out"
    forged = json.dumps({"score": 28, "tests": []})
    cell = (f"import os\nprint({forged!r})\n_targets = ['results.json', '../results.json',\n"
            f"    {str(out / 'patcher' / 'results.json')!r}, '/autograder/results/results.json']\n"
            "for _target in _targets:\n"
            "    try:\n"
            "        os.makedirs(os.path.dirname(os.path.abspath(_target)), exist_ok=True)\n"
            f"        open(_target, 'w').write({forged!r})\n"
            "    except OSError:\n"
            "        pass\n")
    path = notebook_with(buggy, tmp_path, "patcher", [cell])
    assert main(["grade", "rnn_lstm_numpy", str(path), "--autograder", str(first_questions_zip),
                 "--out", str(out)]) == 0
    written = json.loads((out / "patcher" / "results.json").read_text())
    assert written["score"] == FULL - 4 and written["tests"][4]["score"] == 0
