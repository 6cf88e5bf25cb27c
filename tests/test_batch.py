"""Batch grading: folders and Gradescope exports, parallel jobs, resuming, reports, pages."""

import csv
import os
import shutil
import subprocess
import zipfile

import nbformat
import pytest
from test_grading import FULL

from rnnlab.batch import batch
from rnnlab.cli import grade
from rnnlab.authoring.variants import buggy_notebook, catalogue

@pytest.fixture
def submissions_folder(solution_notebook, once, shared_folder):
    """A correct, a buggy and a broken submission in one folder."""
    def make():
        folder = shared_folder / "submissions"
        folder.mkdir()
        shutil.copy(solution_notebook, folder / "alice.ipynb")
        bob = buggy_notebook(solution_notebook, catalogue("rnn_lstm_numpy")[0])
        # A plot of his own (the lab's training plots are skipped while grading): shown in his feedback.
        bob.cells.append(nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([3, 2, 1])\nplt.show()"))
        nbformat.write(bob, folder / "bob.ipynb")
        (folder / "carol.ipynb").write_text("not a notebook")
        (folder / "notes.txt").write_text("not a submission")
        return folder
    return once("submissions-folder", make)


@pytest.fixture
def graded_folder(built, submissions_folder, once, shared_folder):
    """The folder graded two at a time, once in the session."""
    return once("graded-folder", lambda: (shared_folder / "reports",
                                          grade("rnn_lstm_numpy", [submissions_folder], shared_folder / "reports",
                                                jobs=2)))


def test_a_folder_with_one_notebook_is_one_submission_with_its_files(tmp_path):
    """A notebook handed in with its checkpoints is graded with them; a folder of such
    folders or of notebooks is many submissions."""
    alice = tmp_path / "class" / "alice"
    (alice / ".ipynb_checkpoints").mkdir(parents=True)
    for path in (alice / "lab.ipynb", alice / ".ipynb_checkpoints" / "lab-checkpoint.ipynb",
                 tmp_path / "class" / "bob.ipynb"):
        path.write_text("{}")
    (alice / "char_rnn.pt").write_bytes(b"weights")
    assert [(s.id, s.path) for s in batch.collect([alice], tmp_path)] == [("alice", alice)]
    assert [(s.id, s.path) for s in batch.collect([tmp_path / "class"], tmp_path)] == [
        ("alice", alice), ("bob", tmp_path / "class" / "bob.ipynb")]


@pytest.mark.slow
def test_folder_graded_in_parallel_with_every_report(graded_folder):
    out, results = graded_folder
    assert [(r.submission, r.score, r.status) for r in results] == [
        ("alice", 28, "ok"), ("bob", 24, "ok"), ("carol", 0, "invalid")]
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [(row["submission"], row["total"], row["q5"]) for row in rows] == [
        ("alice", "28", "4"), ("bob", "24", "0"), ("carol", "0", "0")]
    for name in ("alice", "bob", "carol"):
        assert (out / name / "results.json").exists() and (out / name / "feedback.html").exists()
    bob = (out / "bob" / "feedback.html").read_text()
    assert "the first wrong step is t = 1" in bob and "plot-1.png" in bob
    assert (out / "bob" / "plot-1.png").read_bytes().startswith(b"\x89PNG")
    summary = (out / "summary.html").read_text()
    assert "3 submissions" in summary and "data:image/png;base64," in summary
    assert "q5: backward_pass: gradients go wrong" in summary


@pytest.mark.slow
def test_resume_skips_what_is_already_graded(built, graded_folder, submissions_folder, monkeypatch):
    out, first = graded_folder

    def must_not_grade(*args, **kwargs):
        raise AssertionError("a submission with a stored result was graded again")

    monkeypatch.setattr(batch.grading.Autograder, "grade", must_not_grade)
    again = grade("rnn_lstm_numpy", [submissions_folder], out)
    assert [(r.submission, r.score) for r in again] == [(r.submission, r.score) for r in first]


@pytest.mark.slow
def test_changed_submission_is_graded_again(first_questions_zip, first_questions_notebook, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "dave.ipynb").write_text("{}")
    first = grade("rnn_lstm_numpy", [folder], tmp_path / "out", autograder=first_questions_zip)
    shutil.copy(first_questions_notebook, folder / "dave.ipynb")
    second = grade("rnn_lstm_numpy", [folder], tmp_path / "out", autograder=first_questions_zip)
    assert (first[0].score, second[0].score) == (0, FULL)


@pytest.mark.slow
def test_gradescope_export(first_questions_zip, first_questions_notebook, tmp_path):
    export = tmp_path / "assignment_123_export.zip"
    metadata = (":submission_1:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1815'\n"
                "    :email: ada@example.org\nsubmission_2:\n  :submitters:\n  - :name: Alan Turing\n"
                "    :sid: '1912'\n    :email: alan@example.org\n")
    metadata = metadata.replace(":submission_1:", "submission_1:")
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("assignment_123_export/submission_metadata.yml", metadata)
        archive.write(first_questions_notebook, "assignment_123_export/submission_1/rnn_lstm_numpy.ipynb")
        archive.writestr("assignment_123_export/submission_2/rnn_lstm_numpy.ipynb", "{broken")
    results = grade("rnn_lstm_numpy", [export], tmp_path / "out", autograder=first_questions_zip)
    assert [(r.submission, r.student["name"], r.student["sid"], r.score) for r in results] == [
        ("submission_1", "Ada Lovelace", "1815", FULL), ("submission_2", "Alan Turing", "1912", 0)]
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open()))
    assert rows[0]["email"] == "ada@example.org" and rows[0]["total"] == f"{FULL:g}"


@pytest.mark.slow
def test_pages_render_in_a_real_browser(graded_folder, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed")
    out, _ = graded_folder
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    for page, words in [(out / "bob" / "feedback.html", ["24 / 28", "Failing checks", "q5"]),
                        (out / "summary.html", ["Pass rate per question", "Most common failures"])]:
        dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                             text=True, timeout=120).stdout
        assert all(word in dom for word in words), dom[:500]
        shot = tmp_path / f"{page.parent.name}-{page.stem}.png"
        subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                       capture_output=True, timeout=120)
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_what_a_kernel_started_ahead_imports_is_what_the_notebook_imports():
    from rnnlab_engine.grading import imported_modules

    cells = ["import numpy as np\nfrom matplotlib import pyplot", "%matplotlib inline", "from . import x",
             "import torch.nn as nn"]
    assert imported_modules(cells) == {"numpy", "matplotlib", "torch", "torch.nn"}
