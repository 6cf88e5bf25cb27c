"""The student notebook, run as a student would: stubs unfilled, then filled."""

import json
import shutil

import nbformat
from nbclient import NotebookClient

CHECK_ALL = """
import json
report = {}
for question in [f"q{k}" for k in range(1, 12)]:
    result = grader.check(question)
    report[question] = [bool(result.passed_all), str(result)]
print("REPORT" + json.dumps(report))
"""


def run_student_notebook(notebook_path, workdir):
    """Execute the notebook in the student folder and run grader.check on every question."""
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_ALL))
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("output_type") == "stream")
    line = next(line for line in text.splitlines() if line.startswith("REPORT"))
    return json.loads(line[len("REPORT"):])


def test_unfilled_notebook_runs_and_every_check_fails(built, tmp_path):
    student = shutil.copytree(built.student_notebook.parent, tmp_path / "student")
    report = run_student_notebook(student / "rnn_lstm_numpy.ipynb", student)
    assert set(report) == {f"q{k}" for k in range(1, 12)}
    failing = [q for q, (passed, _) in report.items() if not passed]
    assert failing == list(report), f"passing with stubs: {set(report) - set(failing)}"
    assert "init_rnn should return the 5 arrays" in report["q4"][1]


def test_filled_notebook_passes_every_public_check(built, solution_notebook, tmp_path):
    """The student folder (public tests only, no reference) with the solution filled in."""
    student = shutil.copytree(built.student_notebook.parent, tmp_path / "student")
    solved = nbformat.read(solution_notebook, as_version=4)
    nbformat.write(solved, student / "rnn_lstm_numpy.ipynb")
    report = run_student_notebook(student / "rnn_lstm_numpy.ipynb", student)
    assert all(passed for passed, _ in report.values()), report
    assert not (student / "rnnlab_reference").exists()
