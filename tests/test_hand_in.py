"""The student's side of the notebook's first and last cells: what is missing from the
student's Python said in one line, and a hand-in that names what is missing and never leaves
a partial zip (through otter's real export)."""

import sys
import zipfile
from importlib.metadata import version

import nbformat
import otter
import pytest

from rnnlab_checks.environment import MissingPackages, check_environment
from rnnlab_checks.hand_in import NotHandedIn, hand_in
from rnnlab_engine.grading import GRADING_PRELUDE


def test_missing_packages_stop_the_first_cell_with_one_line(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "--extra-index-url https://download.pytorch.org/whl/cpu\nnumpy==0.1.0\nno-such-package==1.0\n"
        f"otter-grader[grading]=={version('otter-grader')}\njupyterlab==0.0.1\n"
        "pywin32==306; sys_platform == 'win32'\nno-such-either===1\nnot-this-one==1.*\n")  # not exact pins
    with pytest.raises(MissingPackages) as raised:
        check_environment(tmp_path)
    # IPython shows _render_traceback_ instead of a traceback: one line, with what to run
    assert raised.value._render_traceback_() == [
        "MissingPackages: this Python lacks no-such-package, which the notebook needs: pip install -r "
        "requirements.txt (on Colab or a JupyterHub: !pip install -r requirements.txt), then restart the kernel."]


def test_other_versions_are_one_line_and_stop_nothing(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text(
        f"numpy==0.1.0\notter-grader[grading]=={version('otter-grader')}\njupyterlab==0.0.1\n")
    said = check_environment(tmp_path)
    assert capsys.readouterr().out == said + "\n" and said.startswith(
        f"Other versions than the grader's: numpy {np_version()} (the grader runs 0.1.0); for the same results: ")
    assert check_environment(tmp_path / "elsewhere") is None  # no requirements.txt: nothing to compare


def np_version():
    import numpy
    return numpy.__version__


@pytest.fixture
def notebook_folder(tmp_path, monkeypatch):
    """A student's folder with a saved notebook, and otter's notebook API on it."""
    monkeypatch.chdir(tmp_path)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), tmp_path / "lab.ipynb")
    return tmp_path, otter.Notebook("lab.ipynb")


def test_hand_in_names_what_is_missing_and_writes_nothing(notebook_folder):
    folder, grader = notebook_folder
    with pytest.raises(NotHandedIn) as raised:
        hand_in(grader, {"RNN_CHECKPOINT": "char_rnn.pt"}, "RNN_CHECKPOINT", "GRU_CHECKPOINT")
    assert raised.value._render_traceback_() == [
        "NotHandedIn: nothing was written: 'char_rnn.pt' (RNN_CHECKPOINT) does not exist here; GRU_CHECKPOINT is "
        "not set (run the cell that sets it). Run the cells that write them, then this cell again."]
    assert not list(folder.glob("*.zip"))


def test_hand_in_zips_the_notebook_and_the_files_the_variables_name(notebook_folder):
    folder, grader = notebook_folder
    (folder / "char_rnn.pt").write_bytes(b"weights")
    hand_in(grader, {"RNN_CHECKPOINT": "char_rnn.pt"}, "RNN_CHECKPOINT")
    (written,) = folder.glob("lab_*.zip")
    with zipfile.ZipFile(written) as archive:
        assert {"lab.ipynb", "char_rnn.pt"} <= set(archive.namelist())
        assert archive.read("char_rnn.pt") == b"weights"


def test_an_export_that_fails_half_way_leaves_no_zip(notebook_folder, monkeypatch):
    folder, grader = notebook_folder
    (folder / "char_rnn.pt").write_bytes(b"weights")
    written = zipfile.ZipFile.write

    def write(archive, name, *args, **kwargs):  # the disk fills up at the second file
        if name == "char_rnn.pt":
            raise OSError(28, "No space left on device")
        return written(archive, name, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, "write", write)
    with pytest.raises(OSError, match="No space left"):
        hand_in(grader, {"RNN_CHECKPOINT": "char_rnn.pt"}, "RNN_CHECKPOINT")
    assert not list(folder.glob("*.zip"))


def test_while_rnnlab_grades_the_hand_in_does_nothing(tmp_path, monkeypatch):
    """The grading kernel's ``otter.Notebook`` is the one GRADING_PRELUDE defines."""
    monkeypatch.setitem(sys.modules, "otter", sys.modules["otter"])  # put back after the prelude's
    monkeypatch.chdir(tmp_path)
    exec(GRADING_PRELUDE, {"__name__": "__main__"})
    grading_notebook = sys.modules["otter"].Notebook("lab.ipynb")
    assert hand_in(grading_notebook, {}, "RNN_CHECKPOINT") is None and not list(tmp_path.iterdir())
