"""A new lab is a lab's folder copied under a new name and its solution module copied to that
name: nothing else in the repository changes."""

import csv
import os
import shutil
import subprocess
import sys

import pytest

from rnnlab.authoring.labs import ROOT

pytestmark = pytest.mark.slow  # builds a lab and grades its reference

# What a user's checkout holds of rnnlab (the packages, the labs, the project file).
CHECKOUT = ["autograder", "solutions", "assignments", "pyproject.toml"]


def test_a_copied_lab_builds_and_grades_its_reference_to_full_marks(tmp_path, corpus_folder):
    checkout = tmp_path / "checkout"
    for name in CHECKOUT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, checkout / name)
    shutil.copytree(checkout / "assignments" / "rnn_lstm_numpy", checkout / "assignments" / "copied_lab")
    shutil.copy(checkout / "solutions" / "rnn_lstm_numpy.py", checkout / "solutions" / "copied_lab.py")
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'autograder'}:{checkout}", "RNNLAB_DATA": str(corpus_folder), "OMP_NUM_THREADS": "1"}
    where = subprocess.run([sys.executable, "-c", "import rnnlab; print(rnnlab.__file__)"], env=env, cwd=checkout,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(checkout)), where  # the copy's code runs, not this checkout's

    def rnnlab(*args):
        return subprocess.run([sys.executable, "-m", "rnnlab.cli", *args], env=env, cwd=checkout,
                              capture_output=True, text=True, timeout=900)

    built = rnnlab("build", "copied_lab")
    assert built.returncode == 0, built.stderr[-3000:]
    reference = checkout / "dist" / "copied_lab" / "build" / "otter" / "autograder" / "copied_lab.ipynb"
    graded = rnnlab("grade", "copied_lab", str(reference), "--out", str(tmp_path / "out"))
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-3000:]
    with open(tmp_path / "out" / "gradebook.csv") as gradebook:
        (row,) = csv.DictReader(gradebook)
    assert (row["total"], row["possible"], row["status"]) == ("28", "28", "ok")
    assert (checkout / "dist" / "copied_lab" / "copied_lab-autograder.zip").is_file()
    assert (checkout / "student_template" / "copied_lab" / "copied_lab.ipynb").is_file()
