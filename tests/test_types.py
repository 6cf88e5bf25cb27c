"""The typed boundaries (results, the checker's protocol, a lab's description) pass mypy, and
``--verbose`` says what is being done."""

import logging
import subprocess
import sys

import pytest

from rnnlab.authoring.labs import ROOT
from rnnlab.cli import main


@pytest.mark.slow  # mypy reads every module: about 20 s on a cold cache
def test_mypy_finds_no_error(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)], cwd=ROOT,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("flags,level", [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG)])
def test_verbose_sets_how_much_is_logged(flags, level, corpus_folder, monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_DATA", str(corpus_folder))
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)  # put back after the test
    assert main([*flags, "corpus", "sherlock"]) == 0
    assert root.level == level and capsys.readouterr().out.strip().endswith("sherlock.txt")
