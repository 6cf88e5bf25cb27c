"""The student notebook of each lab, run as a student would: stubs unfilled, then filled."""

import json
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from rnnlab.authoring.labs import available_labs, load_lab, reference_module
from rnnlab.authoring.variants import example_files
from rnnlab_checks.feedback import CHECK_CRASHED

pytestmark = pytest.mark.slow  # each test runs a notebook in a kernel

CHECK_ALL = """
import json

report = {{}}
for question in {questions!r}:
    result = grader.check(question)
    report[question] = [bool(result.passed_all), str(result)]
print("REPORT" + json.dumps(report))
"""


def autograded(lab):
    """The names of the questions of ``lab`` that have checks (not the written ones)."""
    return [q.name for q in load_lab(lab).questions.values() if not q.manual]


def run_student_notebook(notebook_path, workdir, questions, files=()):
    """Execute the notebook in the student folder, put ``files`` beside it, and run
    grader.check on every question."""
    notebook = nbformat.read(notebook_path, as_version=4)
    if files:
        notebook.cells.append(nbformat.v4.new_code_cell(
            f"import shutil\nfor _file in {[str(f) for f in files]!r}:\n    shutil.copy(_file, '.')"))
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_ALL.format(questions=questions)))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("output_type") == "stream")
    line = next(line for line in text.splitlines() if line.startswith("REPORT"))
    return json.loads(line[len("REPORT"):]), notebook


@pytest.fixture(autouse=True)
def corpora_for_the_notebook(corpus_folder, monkeypatch):
    """The notebook's kernel finds the corpus as a student's would with RNNLAB_DATA set."""
    monkeypatch.setenv("RNNLAB_DATA", str(corpus_folder))


@pytest.mark.parametrize("lab", available_labs())
def test_unfilled_notebook_runs_and_every_check_fails(build, lab, tmp_path):
    student = shutil.copytree(build(lab).student_notebook.parent, tmp_path / "student")
    questions = autograded(lab)
    report, _ = run_student_notebook(student / f"{lab}.ipynb", student, questions)
    assert list(report) == questions
    failing = [q for q, (passed, _) in report.items() if not passed]
    assert failing == questions, f"passing with stubs: {set(questions) - set(failing)}"
    expected = load_lab(lab).student  # lab.toml's [student]
    assert expected.unfilled_message in report[expected.unfilled_question][1]
    # What a student reads is the checks' message alone: no check's source line, no check
    # that crashed on what a stub returned.
    for question, (_, output) in report.items():
        assert "Error at line" not in output and "CheckFailure" not in output, output
        assert CHECK_CRASHED not in output.lower(), output


@pytest.mark.parametrize("lab", available_labs())
def test_filled_notebook_passes_every_public_check(build, lab, tmp_path):
    """The student folder (public tests only, no reference) with the solution filled in."""
    built = build(lab)
    student = shutil.copytree(built.student_notebook.parent, tmp_path / "student")
    notebook = nbformat.read(built.solution_notebook, as_version=4)
    # Training cut short where the notebook's own budget takes minutes (lab.toml's
    # student.shortened); the example submissions' checkpoints, trained longer, stand in for
    # the ones it writes, whose held-out loss the public checks measure.
    shortened = load_lab(lab).student.shortened
    if shortened:
        for cell in notebook.cells:
            cell.source = cell.source.replace(*shortened)
    nbformat.write(notebook, student / f"{lab}.ipynb")
    handed_in = {getattr(reference_module(lab), name) for name in load_lab(lab).handed_in_files}
    trained = [f for f in example_files(lab, tmp_path / "examples") if f.name in handed_in]
    report, notebook = run_student_notebook(student / f"{lab}.ipynb", student, autograded(lab), trained)
    assert all(passed for passed, _ in report.values()), report
    assert not (student / "rnnlab_reference").exists()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == [], errors  # every cell ran, the corpus cells and the training included
