"""Shared fixtures: one real build of each lab per test session, into a temporary dist/, and
that build cut to its first questions for the engine's own tests; ``once``, which shares a
costly result between the test workers."""

import fcntl
import os
import pickle

from rnnlab_engine.kernel import THREAD_VARIABLES

# Two test workers share two cores: each one's numerical libraries run on one thread, as
# grading runs them (set before anything loads numpy or torch).
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import first_questions  # noqa: E402
import pytest  # noqa: E402

from rnnlab import cli  # noqa: E402
from rnnlab.authoring.build import build_lab  # noqa: E402
from rnnlab_checks.corpora import data_folders  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_dist(tmp_path_factory):
    """``rnnlab grade`` in a test builds the zip it needs into the session's own folder: never
    into the checkout's dist/, which may be stale, or in use by the other test worker."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "DIST", tmp_path_factory.mktemp("cli-dist"))
        yield


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory):
    """A folder of this test session that every pytest-xdist worker sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def once(shared_folder):
    """``once(key, make)``: ``make()``'s result, made by one test worker of the session for
    all of them (the others wait for it, then read it); it must pickle."""
    folder = shared_folder / "once"
    folder.mkdir(exist_ok=True)
    kept = {}

    def get(key, make):
        if key not in kept:
            path = folder / f"{key}.pickle"
            with open(folder / f"{key}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not path.exists():
                    path.write_bytes(pickle.dumps(make()))
                kept[key] = pickle.loads(path.read_bytes())
        return kept[key]

    return get


@pytest.fixture(scope="session")
def build(once, shared_folder):
    """``build(lab)``: ``build_lab(lab)`` into a temporary dist, once per session for every
    worker (the committed template untouched)."""
    return lambda lab: once(f"build-{lab}", lambda: build_lab(lab, dist=shared_folder / f"dist-{lab}",
                                                               refresh_template=False))


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


@pytest.fixture(scope="session")
def first_questions_zip(built, tmp_path_factory):
    """``rnn_lstm_numpy``'s autograder zip with the tests of its first questions only."""
    return first_questions.first_questions_zip(
        built.autograder_zip, tmp_path_factory.mktemp("first-questions") / "rnn_lstm_numpy-autograder.zip")


@pytest.fixture(scope="session")
def first_questions_notebook(solution_notebook, tmp_path_factory):
    """The solution notebook up to the cell of the first question cut (its training loop)."""
    return first_questions.first_questions_notebook(
        solution_notebook, tmp_path_factory.mktemp("first-questions-notebook") / "rnn_lstm_numpy.ipynb")
