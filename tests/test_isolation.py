"""What a hostile submission can reach of the machine, and what it can make the grader
hold, on each machine rnnlab grades on (``machines``: root with namespaces, a container, a
normal user, a normal user in a container): each attack once worked, and is graded for real,
through ``rnnlab grade`` in a batch with an honest submission; each ends with the honest
questions' score, a message that says what happened, and nothing of the attacker left."""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import psutil
import pytest
from machines import MACHINES, command, user_folder
from test_grading import FULL, notebook_with, report_through_feedback, reported

from rnnlab.authoring.labs import ROOT
from rnnlab.cli import main
from rnnlab_engine.grading import grade_submission
from rnnlab_engine.isolation import landlock, probe
from rnnlab_engine.isolation.cgroups import TASK_LIMIT
from rnnlab_engine.isolation.probe import SCOPES_ABI
from rnnlab_engine.kernel import PRIVATE_SPACE
from rnnlab_engine.results import MAX_MESSAGES, MESSAGE_LIMIT, SubmissionResult

pytestmark = pytest.mark.slow  # every test grades a submission, or probes a machine

# What each machine gives a kernel, as its results say.
HELD = {
    "root": {"allow_listed_view": "a root of its own", "separate_user": True,
             "network_blocked": "a network namespace and seccomp", "disk_limit": "a tmpfs of its own"},
    "container": {"allow_listed_view": "Landlock ABI", "separate_user": True, "network_blocked": "seccomp",
                  "memory_limit": "the watchdog", "tasks_capped": "RLIMIT_NPROC", "disk_limit": "the watchdog"},
    "user": {"allow_listed_view": "a root of its own", "separate_user": False,
             "network_blocked": "a network namespace and seccomp", "memory_limit": "the watchdog",
             "tasks_capped": "RLIMIT_NPROC"},
    "user in a container": {"allow_listed_view": "Landlock ABI", "separate_user": False, "network_blocked": "seccomp",
                            "memory_limit": "the watchdog", "tasks_capped": "RLIMIT_NPROC",
                            "disk_limit": "the watchdog"},
}
# The names the attacks leave on what they make, one per test (which run side by side): a
# process name (at most 15 characters) or command, a file name.
ATTACKER = "rnnlab-attack{}"

# 1. From ``sys.prefix`` a notebook once found the checkout and read the hidden tests and the
# solutions with ``git show`` (and a ``%%bash`` cell, with ``cat``); 2. it once read every
# other submission's name in the grader's command line; 3. it once reached the network, and
# could reach any Unix socket of the grader's user (a session bus, an agent); 4. where it ran
# as the grader's user, it could change the grader's files' modes; 5. memory no process maps
# was counted nowhere.  What it finds is shown through its own feedback.
BASH_SNOOP = """\
%%bash
cat {root}/solutions/*.py {root}/assignments/*/tests/*.py > leak.txt 2>/dev/null
git -C {root} show HEAD:solutions/rnn_lstm_numpy.py >> leak.txt 2>/dev/null
true
"""
SNOOP = """\
import ctypes, glob, mmap, os, socket, subprocess, sys
_found = []
_checkout = {root!r}
for _path in [_checkout + '/.git', _checkout + '/solutions', _checkout + '/assignments', _checkout + '/dist',
              _checkout + '/autograder', _checkout + '/tests', {zip_folder!r}, {others!r}]:
    try:
        os.listdir(_path)
        _found.append(_path)
    except OSError:
        pass
# Beside Python, only the way to it (and to the kernel's own folder and sockets).
_python = [os.path.realpath(_p) for _p in (sys.prefix, sys.base_prefix)]
_own = _python + [os.getcwd(), os.path.dirname(sys.argv[sys.argv.index('-f') + 1])]
for _folder in set(os.path.dirname(_p) for _p in _python) - set(['/']):
    while _folder != '/':
        try:
            _found += [_full for _full in (os.path.join(_folder, _n) for _n in os.listdir(_folder))
                       if not any(_q == _full or _q.startswith(_full + '/') for _q in _own)]
        except OSError:
            pass
        _folder = os.path.dirname(_folder)
for _pattern in ['/tmp/**', '/var/tmp/**', '/dev/shm/**', '/proc/*/cwd/**', '/proc/*/root/tmp/**']:
    _found += [_p for _p in glob.glob(_pattern, recursive=True)
               if _p.endswith(('.zip', 'solution.py')) or '/tests/q' in _p or 'rnnlab_reference' in _p]
if subprocess.run(['git', '-C', _checkout, 'show', 'HEAD:solutions/rnn_lstm_numpy.py'],
                  capture_output=True).returncode == 0:
    _found.append('git show')
if os.path.getsize('leak.txt'):
    _found.append('%%bash')
try:
    import solutions
    _found.append('import solutions')
except ImportError:
    pass
_names = []
for _file in glob.glob('/proc/[0-9]*/cmdline') + glob.glob('/proc/[0-9]*/environ'):
    try:
        if {other!r}.encode() in open(_file, 'rb').read():
            _names.append(_file)
    except OSError:
        pass
def _chmod():
    os.chmod({graders_file!r}, 0o777)
    if os.stat({graders_file!r}).st_mode & 0o777 != 0o777:
        raise OSError('the mode stayed')
_reached = []
for _what, _attempt in [
        ('tcp', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'answers')),
        ('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'answers', ('127.0.0.1', {port}))),
        ('inet6', lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM)),
        ('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
        ('agent', lambda: socket.socket(socket.AF_UNIX).connect({agent!r})),
        ('datagram', lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'answers', {agent!r} + '.d')),
        ('chmod', _chmod),
        ('memfd', lambda: os.memfd_create('hidden')),
        ('shmget', lambda: ctypes.CDLL(None, use_errno=True).shmget(0, 2**30, 0o1600) >= 0 or
                           (_ for _ in ()).throw(OSError(ctypes.get_errno(), 'shmget'))),
        ]:
    try:
        _attempt()
        _reached.append(_what)
    except OSError:
        pass
_found = {{'found': sorted(set(_found)), 'names': _names, 'reached': _reached}}
"""
# 6. A flood of threads once ran unbounded.
FLOOD = """\
import threading, time
_found['threads'] = 0
for _ in range({tasks}):
    try:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        _found['threads'] += 1
    except RuntimeError:
        break
"""
# 7. The kernel's user once wrote 1 GB into its folder, 512 MB elsewhere, and left files in
# /run/lock and /dev/shm after its grading; a tree too deep or closed to its owner went uncounted.
FILL = """\
import os
_deep = {name!r}
for _ in range(300):
    _deep = os.path.join(_deep, 'd')
os.makedirs(_deep)
os.mkdir({name!r} + '-closed', 0)
for _place in ['.', '/tmp', '/var/tmp', '/run/lock', '/dev/shm']:
    try:
        with open(os.path.join(_place, {name!r}), 'wb') as _file:
            for _ in range(1024):
                _file.write(b'x' * 2**20)
                _file.flush()
    except OSError:
        pass
"""
# 8. Memory shared between processes (no process's anonymous memory) once went uncounted.
SHARED_MEMORY = """\
import mmap
_shared = mmap.mmap(-1, 2**31, flags=mmap.MAP_SHARED)
for _page in range(0, 2**31, 4096):
    _shared[_page] = 1
"""
# 9. A daemon once outlived its kernel and forked for 100 s while the next submissions were
# graded (20,000 processes, a load average past 6,000).
DAEMON = """\
import ctypes, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, {name!r}, 0, 0, 0)
        _end = time.time() + 100
        while time.time() < _end:
            try:
                if os.fork() == 0:
                    os.execvp('sleep', [{name!r}.decode(), '100'])
            except OSError:
                pass
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
"""
# 10. A double-forked, ``setsid`` grandchild once allocated 2 GB against 768 MB unseen.
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


def needs(machine):
    """Skip where this machine cannot make ``machine`` (``machines.py`` takes root) or give it
    what its row of the table in docs/running-graders.md says."""
    if os.geteuid() != 0:
        pytest.skip("making the machines takes root")
    if "container" in machine and landlock.abi() < (SCOPES_ABI if machine.startswith("user") else 1):
        pytest.skip(f"this kernel's Landlock (ABI {landlock.abi()}) is too old for {machine}")
    if "container" not in machine and not probe.sandbox().own_root:
        pytest.skip("this machine allows no namespaces")


@pytest.fixture
def machine_folder():
    """A folder that every machine's grader may use, a normal user's too."""
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-machine-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def hostile_batch(notebook, folder, port, name):
    """The hostile submissions and an honest one, in grading order, in ``folder`` (where the
    grader's user has a socket that listens, ``agent.sock``, and a file, ``graders-file``);
    ``name``: what their processes and files are called, and the honest student's name (side
    by side, the tests grade different students)."""
    snoop = SNOOP.format(root=str(ROOT), zip_folder=str(folder / "zip"), others=str(folder / "submissions"),
                         port=port, other=f"alice_smith_{name}", agent=str(folder / "agent.sock"),
                         graders_file=str(folder / "graders-file"))
    notebooks = [notebook_with(notebook, folder / "submissions", "bob_jones",
                               [BASH_SNOOP.format(root=ROOT), snoop + report_through_feedback("_found"),
                                FLOOD.format(tasks=2 * TASK_LIMIT), FILL.format(name=name), SHARED_MEMORY]),
                 notebook_with(notebook, folder / "submissions", "carol_doe",
                               [DAEMON.format(name=name.encode()), GRANDCHILD])]
    honest = folder / "submissions" / f"alice_smith_{name}.ipynb"
    shutil.copy(notebook, honest)
    return notebooks + [honest]


def graders_things(folder):
    """What the grader's user has beside the submissions: a listening socket (an agent, a
    session bus), a datagram one, and a file; returns them, to close and check after."""
    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    agent.bind(str(folder / "agent.sock"))
    agent.listen(1)
    agent.settimeout(0.1)
    datagrams = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    datagrams.bind(str(folder / "agent.sock.d"))
    datagrams.settimeout(0.1)
    for path in ("agent.sock", "agent.sock.d"):
        (folder / path).chmod(0o777)
    (folder / "graders-file").write_text("the grader's")
    (folder / "graders-file").chmod(0o644)
    return agent, datagrams


def leftovers(name):
    """What the attacks called ``name`` left on this machine: processes, files."""
    processes = [p.info for p in psutil.process_iter(["pid", "name", "cmdline", "status"])
                 if name in [p.info["name"], *(p.info["cmdline"] or [])[:1]] and p.info["status"] != psutil.STATUS_ZOMBIE]
    files = [os.path.join(place, name) for place in ["/tmp", "/var/tmp", "/run/lock", "/dev/shm"]
             if os.path.exists(os.path.join(place, name))]
    return processes + files + glob.glob(f"{tempfile.gettempdir()}/rnnlab-kernel-*/folder/{name}*")


@pytest.mark.parametrize("machine", MACHINES)
def test_a_hostile_batch_holds_on_every_machine(machine, first_questions_zip, first_questions_notebook,
                                               machine_folder):
    needs(machine)
    (machine_folder / "submissions").mkdir()
    (machine_folder / "zip").mkdir()
    autograder = shutil.copy(first_questions_zip, machine_folder / "zip")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagrams.bind(("127.0.0.1", port))
    datagrams.settimeout(0.1)
    name = ATTACKER.format(MACHINES.index(machine))
    submissions = hostile_batch(first_questions_notebook, machine_folder, port, name)
    agent, agent_datagrams = graders_things(machine_folder)
    (machine_folder / "home").mkdir()
    if machine.startswith("user"):
        user_folder(machine_folder)
    grade = command(machine, [sys.executable, "-m", "rnnlab.cli", "grade", "rnn_lstm_numpy", *map(str, submissions),
                              "--autograder", str(autograder), "--out", str(machine_folder / "out")])
    run = subprocess.run(grade, capture_output=True, text=True, cwd=machine_folder, timeout=600,
                         env={**os.environ, "HOME": str(machine_folder / "home")})
    assert run.returncode == 0, run.stderr[-3000:]
    results = {p.stem: SubmissionResult.from_gradescope(json.loads((machine_folder / "out" / p.stem / "results.json")
                                                                   .read_text())) for p in submissions}
    assert leftovers(name) == []
    snoop, daemon, honest = results["bob_jones"], results["carol_doe"], results[f"alice_smith_{name}"]
    for result in results.values():
        for key, value in HELD[machine].items():
            assert str(result.isolation[key]).startswith(str(value)), (key, result.isolation)
    assert "REPORT" in snoop.questions[0].output, (snoop.messages, snoop.questions[0].output)
    found = reported(snoop)
    assert found["found"] == [] and found["names"] == [] and found["reached"] == [], found
    for silent in (listener.accept, lambda: datagrams.recv(100), agent.accept, lambda: agent_datagrams.recv(100)):
        with pytest.raises(socket.timeout):
            silent()
    assert (machine_folder / "graders-file").stat().st_mode & 0o777 == 0o644
    if machine == "user in a container":  # its task limit is the grader's: the watchdog holds it
        assert any(f"ran more than {TASK_LIMIT} processes and threads" in m for m in snoop.messages), snoop.messages
    else:
        assert 0 < found["threads"] < TASK_LIMIT
    assert any("went over the memory limit of 768 MB" in m for m in snoop.messages), snoop.messages
    assert snoop.score == FULL - 2  # only q1, which the report replaced, is lost
    if not HELD[machine]["allow_listed_view"].startswith("a root"):  # else its tmpfs fills at 256 MB
        assert any(f"wrote more than {PRIVATE_SPACE // 2**20} MB of files" in m for m in snoop.messages), snoop.messages
    # Its daemon, started again with each restart, costs the questions it outlives.
    assert any("went over the memory limit of 768 MB" in m for m in daemon.messages), daemon.messages
    assert honest.score == FULL and honest.status == "ok", honest.messages


def test_gradescope_holds_in_a_container(first_questions_zip, first_questions_notebook, machine_folder):
    """Gradescope's entry point, as root in a container: the zip unpacked root-only (as
    ``run_autograder`` leaves it), one submission."""
    needs("container")
    root = machine_folder / "autograder"
    with zipfile.ZipFile(first_questions_zip) as archive:
        archive.extractall(root / "source")
    (root / "source").chmod(0o700)
    (machine_folder / "submissions").mkdir()
    snoop = hostile_batch(first_questions_notebook, machine_folder, 9, ATTACKER.format("g"))[0]
    (root / "submission").mkdir()
    shutil.copy(snoop, root / "submission")
    run = subprocess.run(command("container", [sys.executable, "-m", "rnnlab_engine.gradescope", "--root", str(root)]),
                         capture_output=True, text=True, cwd=root / "source", timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = SubmissionResult.from_gradescope(json.loads((root / "results" / "results.json").read_text()))
    found = reported(result)
    assert found["found"] == [] and found["reached"] == [] and result.score == FULL - 2, found
    assert result.isolation["allow_listed_view"].startswith("Landlock") and result.isolation["separate_user"]
    assert leftovers(ATTACKER.format("g")) == []


@pytest.mark.parametrize("machine, refusal", [
    ("container", "neither namespaces nor Landlock, and its user could read"),
    ("user in a container", "student code would run as you"),
])
def test_a_machine_that_cannot_hide_the_tests_grades_nothing(machine, refusal, first_questions_zip,
                                                            first_questions_notebook, machine_folder):
    """Without Landlock (a kernel before 5.13, an older container profile) and namespaces, the
    file permissions are all that keeps the kernel's user from the checkout: a world-readable
    checkout stops the batch in one line, before anything is graded or written."""
    needs(machine)
    shutil.copy(first_questions_zip, machine_folder)
    shutil.copy(first_questions_notebook, machine_folder / "alice_smith.ipynb")
    (machine_folder / "home").mkdir()
    if machine.startswith("user"):
        user_folder(machine_folder)
    grade = command(machine, [sys.executable, "-m", "rnnlab.cli", "grade", "rnn_lstm_numpy",
                              str(machine_folder / "alice_smith.ipynb"), "--autograder",
                              str(machine_folder / first_questions_zip.name), "--out", str(machine_folder / "out")],
                    old_kernel=True)
    run = subprocess.run(grade, capture_output=True, text=True, cwd=machine_folder, timeout=120,
                         env={**os.environ, "HOME": str(machine_folder / "home")})
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and refusal in run.stderr, run.stderr
    assert str(ROOT / "solutions") in run.stderr or machine.startswith("user")
    assert not (machine_folder / "out").exists()


def test_rich_output_is_capped_and_said_so(first_questions_zip, first_questions_notebook, tmp_path):
    """Four cells each displaying 60 million characters of ``image/png`` once wrote 129 MiB
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
    """A 100,000-cell notebook once made 93,156 identical messages (a 15.6 MB results.json)."""
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
    """Sleeping just under the question limit in every question once ran 21 s past the
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


