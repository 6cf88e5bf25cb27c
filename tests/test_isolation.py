"""What a hostile submission can reach of the machine, and what it can make the grader
hold: each test is an attack that once worked, graded for real; each ends with the honest
questions' score, a message that says what happened, and the grader alive."""

import json
import os
import subprocess
import sys
import zipfile

import pytest
from test_grading import FULL, notebook_with, report_through_feedback, reported

from rnnlab.authoring.labs import ROOT
from rnnlab.cli import main
from rnnlab_engine import gradescope, kernel
from rnnlab_engine.grading import grade_submission
from rnnlab_engine.results import MAX_MESSAGES, MESSAGE_LIMIT

pytestmark = pytest.mark.slow  # every test grades a submission


def needs_allow_list():
    if not kernel.sandbox().allow_listed:
        pytest.skip("this machine allows no PID and mount namespaces")


def as_a_normal_user(monkeypatch):
    """Grade as a grader without root would: a user namespace, and no cgroup of its own."""
    monkeypatch.setattr(kernel, "sandbox", lambda: kernel.Sandbox(("pid", "net", "user")))
    monkeypatch.setattr(kernel, "_cgroup_hierarchies", lambda: {})


def through_gradescope(zip_path, notebook, tmp_path):
    """Grade as Gradescope's ``run_autograder`` does: the zip in /autograder/source."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    (root / "submission" / notebook.name).write_bytes(notebook.read_bytes())
    gradescope.main(["--root", str(root)])
    from rnnlab_engine.results import SubmissionResult
    return SubmissionResult.from_gradescope(json.loads((root / "results" / "results.json").read_text()))


SNOOP = """\
import glob, os, subprocess, sys
_found = []
_checkout = {root!r}
for _path in [_checkout + '/.git', _checkout + '/solutions', _checkout + '/assignments', _checkout + '/dist',
              _checkout + '/autograder', _checkout + '/tests', {zip_folder!r},
              {others!r}]:
    if os.path.exists(_path):
        _found.append(_path)
# Beside Python, only the way to it (and to the kernel's own folder and sockets, where
# Python is in /tmp too).
_python = [os.path.realpath(_p) for _p in (sys.prefix, sys.base_prefix)]
_own = _python + [os.getcwd(), os.path.dirname(sys.argv[sys.argv.index('-f') + 1])]
for _folder in set(os.path.dirname(_p) for _p in _python) - set(['/']):
    while _folder != '/':
        _found += [_full for _full in (os.path.join(_folder, _n) for _n in os.listdir(_folder))
                   if not any(_q == _full or _q.startswith(_full + '/') for _q in _own)]
        _folder = os.path.dirname(_folder)
for _pattern in ['/tmp/**', '/var/tmp/**', '/dev/shm/**', '/proc/*/cwd/**']:
    _found += [_p for _p in glob.glob(_pattern, recursive=True)
               if _p.endswith(('.zip', 'solution.py')) or '/tests/q' in _p or 'rnnlab_reference' in _p]
_git = subprocess.run(['git', '-C', _checkout, 'show', 'HEAD:solutions/rnn_lstm_numpy.py'], capture_output=True)
if _git.returncode == 0:
    _found.append('git show')
_found = sorted(set(_found))
"""


GRANDCHILD = """\
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        _hog = [b'x' * 2**26 for _ in range(32)]  # 2 GB, touched
        time.sleep(60)
    os._exit(0)
time.sleep(30)
"""


@pytest.mark.parametrize("how", ["as root", "as a normal user", "through Gradescope"])
def test_the_kernel_sees_its_folder_and_python_and_nothing_else(how, first_questions_zip, first_questions_notebook,
                                                                tmp_path, monkeypatch):
    """1. From ``sys.prefix`` a notebook once found the checkout and read the hidden tests and
    the solutions with ``git show``: now nothing of the checkout but the Python installation
    is there, nor the zips, nor the other submissions' folder.
    2. A double-forked, ``setsid`` grandchild once allocated 2 GB against 768 MB unseen: now
    every process of the kernel's PID namespace counts (and, as root, its cgroup's)."""
    needs_allow_list()
    if how == "as a normal user":
        as_a_normal_user(monkeypatch)
    probe = SNOOP.format(root=str(ROOT), zip_folder=str(first_questions_zip.parent), others=str(tmp_path))
    path = notebook_with(first_questions_notebook, tmp_path, "snoop",
                         [probe + report_through_feedback("_found"), GRANDCHILD])
    if how == "through Gradescope":
        result = through_gradescope(first_questions_zip, path, tmp_path)
    else:
        result = grade_submission(first_questions_zip, path)
    assert reported(result) == []
    assert result.score == FULL - 2  # only q1, which the probe replaced, is lost
    assert result.isolation["allow_listed_view"]
    memory = "690 MB" if how == "through Gradescope" else "768 MB"
    assert any(f"went over the memory limit of {memory}" in m for m in result.messages), result.messages
    if how == "as a normal user":
        assert result.isolation["memory_limit"] == "the watchdog" and not result.isolation["separate_user"]


def test_rich_output_is_capped_and_said_so(first_questions_zip, first_questions_notebook, tmp_path):
    """3. Four cells each displaying 60 million characters of ``image/png`` once wrote 129 MiB
    into the output folder, while the result said the output "was dropped"."""
    show = "from IPython.display import display\ndisplay({'image/png': 'iVBO' * 15_000_000}, raw=True)"
    path = notebook_with(first_questions_notebook, tmp_path, "pictures", [show] * 4)
    out = tmp_path / "out"
    assert main(["grade", "rnn_lstm_numpy", str(path), "--autograder", str(first_questions_zip),
                 "--out", str(out)]) == 0
    written = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert written < 2 * 2**20
    results = json.loads((out / "pictures" / "results.json").read_text())
    assert results["score"] == FULL
    assert any("dropped: 240,000,000 characters of image/png" in m for m in results["rnnlab"]["messages"])


def test_results_stay_small_whatever_the_notebook(first_questions_zip, first_questions_notebook, tmp_path):
    """4. A 100,000-cell notebook once made 93,156 identical messages (a 15.6 MB results.json)."""
    notebook = json.loads(first_questions_notebook.read_text())
    first_extra = len([c for c in notebook["cells"] if c["cell_type"] == "code"]) + 1
    huge = "raise ValueError('" + "x" * 10**6 + "')"  # an error message of a million characters
    sources = [huge, "import time\ntime.sleep(600)"] + [f"x = {n}" for n in range(100_000)]
    notebook["cells"] += [{"cell_type": "code", "id": f"extra-{n}", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": source} for n, source in enumerate(sources)]
    path = tmp_path / "many.ipynb"
    path.write_text(json.dumps(notebook))
    out = tmp_path / "out"
    assert main(["grade", "rnn_lstm_numpy", str(path), "--autograder", str(first_questions_zip), "--out", str(out),
                 "--time-limit", "20"]) == 0
    results = (out / "many" / "results.json").read_bytes()
    assert len(results) < 200_000 and (out / "many" / "feedback.html").stat().st_size < 200_000
    messages = json.loads(results)["rnnlab"]["messages"]
    assert len(messages) <= MAX_MESSAGES + 1 and all(len(m) < MESSAGE_LIMIT + 100 for m in messages)
    last = first_extra + 100_001
    assert any(f"Code cells {first_extra + 2:,} to {last:,} were not run" in m for m in messages), messages


def test_a_timeout_costs_its_own_question_and_the_limit_holds(first_questions_zip, first_questions_notebook,
                                                             tmp_path):
    """5. Sleeping just under the question limit in every question once ran 21 s past the
    submission's limit, and after the first timeout the rest failed as "timed out after 1 s"."""
    sleepy = ("import time\n_slept = set()\n"
              "def _sleepy(function):\n"
              "    def wrapper(*args, **kwargs):\n"
              "        if function.__name__ not in _slept:\n"
              "            _slept.add(function.__name__)\n"
              "            time.sleep(2.5)\n"
              "        return function(*args, **kwargs)\n"
              "    return wrapper\n"
              "generate_dataset, sequences_to_dicts, one_hot_encode = map(_sleepy, (generate_dataset, "
              "sequences_to_dicts, one_hot_encode))\n"
              "forward_pass, backward_pass, clip_gradient_norm = map(_sleepy, (forward_pass, backward_pass, "
              "clip_gradient_norm))\n")
    path = notebook_with(first_questions_notebook, tmp_path, "sleepy", [sleepy])
    limit = 15
    result = grade_submission(first_questions_zip, path, time_limit=limit, question_time_limit=3)
    assert result.seconds - result.waited_seconds <= limit + 3  # shutting the kernel down, at most
    graded = [q for q in result.questions if q.status == "graded"]
    assert graded and all(q.score == q.possible for q in graded)
    assert graded == result.questions[:len(graded)]  # the first questions, each in its 3 s
    stopped, *left = result.questions[len(graded):]  # the cases checked before the end keep their points
    assert stopped.status == "timeout" and "ran for more than" in stopped.output
    assert left and all(q.score == 0 and q.status == "timeout" and "used up its time" in q.output for q in left)
    # Checked once: a second try of a sleeping question would take twice its 3 s.
    assert stopped.wall_seconds - stopped.waited_seconds < 2 * 3, stopped
    assert not any("Replaying" in m for m in result.messages), result.messages


def test_writes_are_bounded_and_removed(first_questions_zip, first_questions_notebook, tmp_path):
    """6. The kernel's user once wrote 1 GB into its folder, 640 MB into /tmp, 64 MB into
    /var/tmp, and left a file in /run/lock after clean-up."""
    needs_allow_list()
    marker = f"rnnlab-leftover-{tmp_path.name}"
    fill = (f"import os\n_written = 0\n"
            f"for _place in ['.', '/tmp', '/var/tmp', '/run/lock', '/dev/shm']:\n"
            f"    try:\n"
            f"        with open(os.path.join(_place, {marker!r}), 'wb') as _file:\n"
            f"            for _ in range(1024):\n"
            f"                _file.write(b'x' * 2**20)\n"
            f"                _file.flush()\n"
            f"                _written += 2**20\n"
            f"    except OSError:\n"
            f"        pass\n" + report_through_feedback("_written"))
    path = notebook_with(first_questions_notebook, tmp_path, "filler", [fill])
    result = grade_submission(first_questions_zip, path)
    assert 0 < reported(result) <= kernel.PRIVATE_SPACE
    assert result.score == FULL - 2
    assert result.isolation["private_space"] == kernel.PRIVATE_SPACE
    for place in ["/tmp", "/var/tmp", "/run/lock", "/dev/shm"]:
        assert not os.path.exists(os.path.join(place, marker))


def test_other_processes_command_lines_are_out_of_view(first_questions_zip, first_questions_notebook, tmp_path):
    """7. ``/proc/<grader>/cmdline`` once listed every submission of the batch (students'
    names, in a Gradescope export)."""
    needs_allow_list()
    look = ("import glob\n_seen = []\n"
            "for _file in glob.glob('/proc/[0-9]*/cmdline') + glob.glob('/proc/[0-9]*/environ'):\n"
            "    try:\n"
            "        if b'alice_smith' in open(_file, 'rb').read():\n"
            "            _seen.append(_file)\n"
            "    except OSError:\n"
            "        pass\n" + report_through_feedback("_seen"))
    probe = notebook_with(first_questions_notebook, tmp_path, "bob_jones", [look])
    other = tmp_path / "alice_smith.ipynb"
    other.write_text("not a notebook")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "rnnlab.cli", "grade", "rnn_lstm_numpy", str(probe), str(other),
               "--autograder", str(first_questions_zip), "--out", str(out)]
    assert subprocess.run(command, capture_output=True).returncode == 0
    bob = json.loads((out / "bob_jones" / "results.json").read_text())
    assert "REPORT[]END" in bob["tests"][0]["output"] and bob["score"] == FULL - 2
    alice = json.loads((out / "alice_smith" / "results.json").read_text())
    assert alice["rnnlab"]["status"] == "invalid"
