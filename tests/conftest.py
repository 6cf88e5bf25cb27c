"""Shared fixtures: one real build of each lab per test session, into a temporary dist/."""

import pytest

from autograder import cli
from autograder.build import build_lab
from autograder.checks.corpora import data_folders


@pytest.hookimpl(optionalhook=True)  # a run with -p no:xdist has no such hook
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's workers share out the tests one by one, except where tests share a
    costly module fixture: a lab's catalogue in test_variants.py (which grades it once),
    test_batch.py and test_fresh_environment.py each run on one worker.  The largest groups
    go out first."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module, _, name = nodeid.partition("::")
            if module.endswith("test_variants.py") and "[" in name:
                return "variants of " + name.split("[", 1)[1].split("-", 1)[0].rstrip("]")
            if module.endswith(("test_batch.py", "test_fresh_environment.py")):
                return module
            return nodeid

    return SharedFixtures(config, log)


@pytest.fixture(scope="session", autouse=True)
def private_dist(tmp_path_factory):
    """``rnnlab grade`` in a test builds the zip it needs into the session's own folder: never
    into the checkout's dist/, which may be stale, or in use by the other test worker."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "DIST", tmp_path_factory.mktemp("cli-dist"))
        yield


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """``build(lab)``: ``build_lab(lab)`` into a temporary dist, once per session (the
    committed template untouched)."""
    results = {}

    def get(lab):
        if lab not in results:
            results[lab] = build_lab(lab, dist=tmp_path_factory.mktemp(f"dist-{lab}"), refresh_template=False)
        return results[lab]

    return get


@pytest.fixture(scope="session")
def built(build):
    """The build of ``rnn_lstm_numpy``, the lab most grading tests use."""
    return build("rnn_lstm_numpy")


@pytest.fixture(scope="session")
def solution_notebook(built):
    """The full-solution notebook of ``rnn_lstm_numpy``."""
    return built.solution_notebook


@pytest.fixture(scope="session")
def corpus_folder():
    """The folder that holds the real corpora (``$RNNLAB_DATA``, or ``../shared/data`` beside
    the checkout): tests use them and never download."""
    folder = next((f for f in data_folders() if (f / "sherlock.txt").is_file()), None)
    assert folder is not None, "the corpora are missing: set RNNLAB_DATA to the folder holding sherlock.txt"
    return folder
