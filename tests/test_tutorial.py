"""docs/tutorial.md, followed as written in a copy of the checkout; and ``rnnlab new``,
whose files load as a lab and which refuses a name that cannot be one.

The tutorial's blocks run in order: a block whose first line names a file (``# PATH: new
file``, ``# PATH: append``, or in a Markdown block ``<!-- PATH: append -->``) creates that
file or is added at its end; a ``bash`` block runs in bash, ``rnnlab`` and ``pytest`` being
this Python's; a ``text`` block after a ``bash`` block is output that block must print.
"""

import csv
import os
import re
import shutil
import subprocess
import sys

import pytest

from rnnlab import cli
from rnnlab.authoring import labs, new_lab
from rnnlab.authoring.labs import ROOT, AuthoringError, available_labs, load_lab
from rnnlab.authoring.variants import catalogue

TUTORIAL = ROOT / "docs" / "tutorial.md"
LAB = "my_lab"
# What a user's checkout holds of rnnlab (the packages, the labs, the project file), and the
# test suite that the tutorial's catalogue check runs.
CHECKOUT = ["autograder", "solutions", "assignments", "pyproject.toml", "tests"]
FENCE = re.compile(r"^(`{3,})(\w*)")
FILE_LINE = re.compile(r"^(?:#|<!--)\s*(\S+): (new file|append)\s*(?:-->)?$")
# bash functions standing for the commands a reader's environment has
COMMANDS = 'rnnlab() { "$PYTHON" -m rnnlab.cli "$@"; }\npytest() { "$PYTHON" -m pytest "$@"; }\nset -e -o pipefail\n'


def blocks(text):
    """The fenced blocks of a Markdown text, in order: ``[(language, body)]``."""
    found, fence, language, lines = [], None, "", []
    for line in text.splitlines():
        if fence is None:
            opened = FENCE.match(line)
            if opened:
                fence, language, lines = opened.group(1), opened.group(2), []
        elif line.strip() == fence:
            found.append((language, "\n".join(lines)))
            fence = None
        else:
            lines.append(line)
    assert fence is None, "a code block is never closed"
    return found


def steps(text):
    """The tutorial's steps: ``("file", path, mode, text)``, ``("bash", commands)`` and
    ``("output", lines)``."""
    found = []
    for language, body in blocks(text):
        first, _, rest = body.partition("\n")
        named = FILE_LINE.match(first.strip())
        if named:
            found.append(("file", named.group(1), named.group(2), rest))
        elif language not in ("bash", "text"):
            raise AssertionError(f"a {language} block whose first line names no file: {first!r}")
        elif language == "bash":
            found.append(("bash", body))
        elif language == "text" and found and found[-1][0] == "bash":
            found.append(("output", body))
    return found


def apply_file(checkout, path, mode, text):
    """Create ``path`` with ``text`` (``new file``) or add ``text`` at its end (``append``)."""
    target = checkout / path
    assert target.resolve().is_relative_to(checkout), path
    if mode == "append":
        assert target.is_file(), f"the tutorial appends to {path}, which is not there"
        target.write_text(target.read_text().rstrip("\n") + "\n\n\n" + text.strip("\n") + "\n")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.strip("\n") + "\n")


def squeezed(text):
    return " ".join(text.split())


def gradebook(folder):
    with open(folder / "gradebook.csv") as file:
        (row,) = csv.DictReader(file)
    return row


@pytest.mark.slow  # a build, two gradings and a catalogue check: about 17 s on one core
def test_the_tutorial_as_written(tmp_path):
    checkout = tmp_path / "checkout"
    for name in CHECKOUT:
        if (ROOT / name).is_dir():
            # without a my_lab of the reader's, made by following the tutorial in this checkout
            shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__", LAB, f"{LAB}.py"))
        else:
            shutil.copy(ROOT / name, checkout / name)
    # the copy's code and labs (which read no corpus), and pytest's temporary folders apart from
    # this session's
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(PYTHONPATH=f"{checkout / 'autograder'}:{checkout}", OMP_NUM_THREADS="1", PYTHON=sys.executable,
               PYTEST_DEBUG_TEMPROOT=str(tmp_path))
    text = TUTORIAL.read_text()
    assert f"rnnlab new {LAB}\n" in text and not set(re.findall(r"rnnlab \w+ (\w+)", text)) - {LAB}, \
        f"the tutorial names one lab, {LAB}"
    edited = {step[1] for step in steps(text) if step[0] == "file"}
    assert edited == {f"solutions/{LAB}.py", f"assignments/{LAB}/narrative.md", f"assignments/{LAB}/tests/q2.py",
                      f"assignments/{LAB}/variants.py"}
    printed = ""
    for step in steps(text):
        if step[0] == "file":
            apply_file(checkout, *step[1:])
        elif step[0] == "bash":
            ran = subprocess.run(["bash", "-c", COMMANDS + step[1]], cwd=checkout, env=env, capture_output=True,
                                 text=True, timeout=300)
            printed = ran.stdout + ran.stderr
            assert ran.returncode == 0, f"{step[1]}\n{printed[-3000:]}"
        else:
            missing = [line for line in step[1].splitlines() if squeezed(line) not in squeezed(printed)]
            assert missing == [], f"the tutorial shows output that is not printed:\n{printed[-3000:]}"
    reference, buggy = gradebook(checkout / "grading-output" / "reference"), \
        gradebook(checkout / "grading-output" / "buggy")
    assert (reference["total"], reference["possible"], reference["status"]) == ("4", "4", "ok")
    assert (buggy["q1"], buggy["q2"], buggy["possible"]) == ("2", "0", "4")


# rnnlab new, without a build: into a temporary checkout


@pytest.fixture
def empty_checkout(tmp_path, monkeypatch):
    """A checkout with no lab, which ``rnnlab new`` and reading a lab both take for this one."""
    for part in ("solutions", "assignments", "autograder"):
        (tmp_path / part).mkdir()
    for module, names in ((labs, ("ROOT", "SOLUTIONS", "ASSIGNMENTS")), (new_lab, ("ROOT",))):
        for name in names:
            monkeypatch.setattr(module, name, tmp_path / ("" if name == "ROOT" else name.lower()))
    return tmp_path


def test_a_new_lab_loads_and_its_variant_applies(empty_checkout, capsys):
    assert cli.main(["new", LAB]) == 0
    written = capsys.readouterr().out.splitlines()
    assert written[-1] == f"next: rnnlab build {LAB}"
    assert {line.removeprefix("wrote ") for line in written[:-1]} == set(new_lab.lab_files(LAB))
    assert available_labs() == [LAB]
    lab = load_lab(LAB)
    assert list(lab.questions) == ["q1"] and lab.student.unfilled_question == "q1"
    assert [(t.hidden, t.points) for t in lab.questions["q1"].tests] == [(False, 1.0), (True, 1.0)]
    assert lab.points == 2 and lab.corpora == []
    reference = "\n".join(lab.sections.values())
    (variant,) = catalogue(LAB)
    assert variant.question == "q1" and reference.count(variant.find) == 1


@pytest.mark.parametrize("name", ["my-lab", "2nd_lab", "class", "lab one", "../escape"])
def test_a_name_that_is_no_identifier_is_refused(empty_checkout, name, capsys):
    assert cli.main(["new", name]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"rnnlab new: {name!r}: not a lab name") and error.count("\n") == 1, error
    assert not any(empty_checkout.rglob("*.*"))


def test_an_existing_lab_is_refused(empty_checkout, capsys):
    new_lab.new_lab(LAB)
    (empty_checkout / "solutions" / f"{LAB}.py").write_text("# the author's work\n")
    with pytest.raises(AuthoringError, match=f"{LAB}.py: exists already"):
        new_lab.new_lab(LAB)
    shutil.rmtree(empty_checkout / "assignments" / LAB)
    assert cli.main(["new", LAB]) == 1  # a solution module alone is a lab begun
    assert "exists already" in capsys.readouterr().err
    assert (empty_checkout / "solutions" / f"{LAB}.py").read_text() == "# the author's work\n"


@pytest.mark.parametrize("name,where", [("softmax", "autograder/"), ("generate_dataset", "assignments/")])
def test_a_name_in_rnnlabs_code_or_a_labs_is_refused(name, where):
    """tests/test_layout.py allows no lab's name in rnnlab's packages nor in another lab's
    files (this checkout, read and never written)."""
    assert any(name in path.read_text() for path in (ROOT / where).rglob("*.py"))
    with pytest.raises(AuthoringError, match=rf"a word rnnlab's code already uses \({where}"):
        new_lab.check_name(name, ROOT)
    for lab in available_labs():  # and a lab of this checkout exists already
        with pytest.raises(AuthoringError, match="exists already"):
            new_lab.check_name(lab, ROOT)
