"""The autograder zip and the student bundle need nothing of rnnlab: a fresh venv with only
otter-grader[grading], numpy, torch and matplotlib grades and checks with them, the zip
through its own ``run_autograder`` entry point in Gradescope's folder layout."""

import json
import os
import subprocess
import venv
import zipfile

import pytest

from rnnlab_engine.kernel import sandbox

pytestmark = pytest.mark.slow  # each test installs rnnlab into a new virtual environment

PACKAGES = ["otter-grader[grading]==7.0.0", "numpy", "torch==2.13.0", "matplotlib"]

STUDENT_SCRIPT = """
import json, sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell(
    "import json\\nprint('REPORT' + json.dumps({q: bool(grader.check(q).passed_all) for q in ['q1', 'q5', 'q10']}))"))
NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": sys.argv[2]}}).execute()
text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("output_type") == "stream")
print(next(line for line in text.splitlines() if line.startswith("REPORT")))
"""


@pytest.fixture
def fresh_python(tmp_path_factory, once):
    """A new virtual environment holding only what the zip's users have (made once)."""
    def make():
        folder = tmp_path_factory.mktemp("fresh-venv")
        folder.chmod(0o755)  # as an installed Python is: the kernel's own user must run it
        venv.create(folder, with_pip=True)
        python = folder / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True, timeout=1200)
        return python
    python = once("fresh-python", make)
    for package in ("rnnlab", "rnnlab_engine", "rnnlab_checks"):
        probe = subprocess.run([str(python), "-c", f"import {package}"], capture_output=True, cwd=python.parent)
        assert probe.returncode != 0, f"{package} must not be importable in the fresh environment"
    return python


def test_zip_grades_in_a_fresh_environment(built, solution_notebook, fresh_python, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(built.autograder_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "rnn_lstm_numpy.ipynb").write_bytes(solution_notebook.read_bytes())
    # What run_autograder does once the environment is active.
    subprocess.run([str(fresh_python), "-m", "rnnlab_engine.gradescope", "--root", str(root)],
                   check=True, cwd=root / "source", capture_output=True, timeout=600)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 28 and len(results["tests"]) == 11
    assert results["rnnlab"]["isolation"]["separate_user"] == (os.geteuid() == 0)
    assert results["rnnlab"]["isolation"]["allow_listed_view"] == sandbox().allow_listed


def test_student_bundle_checks_in_a_fresh_environment(built, solution_notebook, fresh_python, tmp_path):
    with zipfile.ZipFile(built.student_bundle) as bundle:
        bundle.extractall(tmp_path / "student")
    notebook = tmp_path / "student" / "rnn_lstm_numpy.ipynb"
    notebook.write_bytes(solution_notebook.read_bytes())
    script = tmp_path / "check.py"
    script.write_text(STUDENT_SCRIPT)
    completed = subprocess.run([str(fresh_python), str(script), str(notebook), str(tmp_path / "student")],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1][len("REPORT"):])
    assert report == {"q1": True, "q5": True, "q10": True}
