"""Shared fixtures: one real build of each lab per test session, into a temporary dist/."""

import pytest

from autograder.build import build_lab


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``build_lab('rnn_lstm_numpy')`` into a temporary dist (the committed template untouched)."""
    dist = tmp_path_factory.mktemp("dist")
    return build_lab("rnn_lstm_numpy", dist=dist, refresh_template=False)


@pytest.fixture(scope="session")
def solution_notebook(built):
    """The full-solution notebook that otter assign wrote for the autograder."""
    return built.autograder_zip.parent / "otter" / "autograder" / "rnn_lstm_numpy.ipynb"
