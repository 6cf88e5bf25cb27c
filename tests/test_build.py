"""The build: real otter assign, no solution in the student notebook, deterministic, in sync."""

import filecmp
import re
import zipfile

import nbformat

from autograder.build import build_lab
from autograder.labs import ROOT, load_lab

LAB = "rnn_lstm_numpy"


def solution_lines(source):
    """Lines between BEGIN/END SOLUTION in the reference module, stripped of indentation."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == "# BEGIN SOLUTION":
            inside = True
        elif line.strip() == "# END SOLUTION":
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def test_no_solution_line_reaches_the_student(built):
    solution = (ROOT / "solutions" / f"{LAB}.py").read_text()
    student_code = "\n".join(c.source for c in nbformat.read(built.student_notebook, as_version=4).cells)
    student_lines = {line.strip() for line in student_code.splitlines()}
    # Lines such as "return one_hot" could legitimately appear elsewhere; every line with
    # real content must not.
    leaked = [line for line in solution_lines(solution)
              if len(line) > 12 and not line.startswith("#") and line in student_lines]
    assert solution_lines(solution), "the reference has no solution regions"
    assert leaked == []
    assert "# BEGIN SOLUTION" not in student_code
    with zipfile.ZipFile(built.student_bundle) as bundle:
        names = bundle.namelist()
    assert f"{LAB}.ipynb" in names and "tests/q5.py" in names and "rnnlab_checks/gradients.py" in names
    assert not any("rnnlab_reference" in n for n in names)


def test_public_tests_only_for_students(built):
    public = (built.student_notebook.parent / "tests" / "q5.py").read_text()
    assert "hidden=False" in public and "hidden=True" not in public
    with zipfile.ZipFile(built.autograder_zip) as archive:
        full = archive.read("tests/q5.py").decode()
        assert "hidden=True" in full
        names = archive.namelist()
    # The reference is for the checker only: not in files/, which goes next to the notebook.
    assert "rnnlab_reference/rnn_lstm_numpy.py" in names
    assert not any(n.startswith("files/rnnlab_reference") for n in names)
    assert {"rnnlab_engine/grading.py", "rnnlab_engine/checker.py", "rnnlab_engine/jail.py"} <= set(names)
    assert "python -m rnnlab_engine.gradescope" in zipfile.ZipFile(built.autograder_zip).read(
        "run_autograder").decode()


def test_stubs_keep_signatures(built):
    source = "\n".join(c.source for c in nbformat.read(built.student_notebook, as_version=4).cells)
    for name in ["generate_dataset", "backward_pass", "lstm_backward", "train_rnn"]:
        assert re.search(rf"def {name}\([^)]*\):\n    \"\"\"", source)
    assert "    ..." in source


def test_build_is_deterministic(built, tmp_path):
    again = build_lab(LAB, dist=tmp_path, refresh_template=False)
    assert again.student_notebook.read_bytes() == built.student_notebook.read_bytes()
    assert again.autograder_zip.read_bytes() == built.autograder_zip.read_bytes()


def cell_contents(path):
    """What a student sees of a notebook: cell types, sources and tags (not format details)."""
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in notebook.cells]


def test_student_template_is_up_to_date(built):
    template = ROOT / "student_template" / LAB
    assert cell_contents(template / f"{LAB}.ipynb") == cell_contents(built.student_notebook), \
        "student_template is stale: run `rnnlab build` and commit student_template/"
    comparison = filecmp.dircmp(template / "tests", built.student_notebook.parent / "tests")
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files


def test_lab_question_list():
    lab = load_lab(LAB)
    assert 8 <= len(lab.questions) <= 12
    assert lab.points == 28
    for question in lab.questions.values():
        assert any(t.hidden for t in question.tests) and any(not t.hidden for t in question.tests)
