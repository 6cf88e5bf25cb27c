"""A Jupyter kernel that runs untrusted code under time, CPU and memory limits.

Student code runs in the kernel's processes only, started through ``jail`` in the strongest
``Sandbox`` the machine allows: its own PID, mount and network namespaces and a root that
shows only its folder, the Python installation and the system's libraries; a cgroup that
holds every process it starts.  A watchdog thread sums the memory of all those processes
(and what they wrote into their private space) and kills them all above the limit; it also
times each piece of code, by the CPU time of those processes (and of the checker, while it
checks) and by the wall time they did not spend waiting for a CPU, so that a busy machine
costs no time; what the code shows is capped.  The kernel talks to us over Unix sockets.
Whatever happens (timeout, crash, ``os._exit``, memory), ``run`` returns an ``Outcome``
instead of raising.
"""

import fcntl
import functools
import itertools
import json
import os
import random
import shutil
import stat
import subprocess
import tempfile
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .jail import give_tree

WATCHDOG_PERIOD = 0.05
# Reading a process's proportional sizes costs ~3 ms: they are read every 0.5 s.
SHARED_EVERY = 10
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
# Threads per numerical library in the kernel and the checker: one, unless this says more
# (``rnnlab verify`` grades with two, as a student's code may ask for).
THREADS_VARIABLE = "RNNLAB_THREADS"
# What picks a numerical library's CPU kernels (see ``rnnlab.authoring.platforms``): handed on to
# the kernel, so that a verification run grades as an older CPU would.
PLATFORM_VARIABLES = ("OPENBLAS_CORETYPE", "MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
# What one piece of code may show (text, images, HTML: characters of any kind of output)
# before the rest is dropped; the grade is still written.
OUTPUT_LIMIT = 1_000_000
# An error's message, and each line of its traceback (the last 20), are cut to this length.
ERROR_LIMIT = 2_000
# Tasks (processes and threads) the kernel may have: a kernel with torch loaded uses ~20.
TASK_LIMIT = 256
# Bytes a kernel may write, all places together (its folder, /tmp, /var/tmp, /run/lock,
# /dev/shm): one tmpfs, which also counts against its memory.  A submission unpacks to at
# most 200 MB (``grading.MAX_ZIP_BYTES``).
PRIVATE_SPACE = 256 * 2**20
# Kernels run as users of their own (where the grader is root), one per kernel alive at a
# time, so that two submissions graded side by side cannot touch each other's files: a user
# is held by a lock in a folder of root's, across rnnlab processes too, until nothing of its
# last kernel is left.
KERNEL_USERS = range(64000, 65000)
USER_LOCKS = Path("/run/rnnlab-kernel-users")


def claim_kernel_user(locks=USER_LOCKS, users=KERNEL_USERS):
    """``(uid, lock)``: a user of ``users`` that no other kernel on this machine holds
    and no process runs as, and the open file whose lock holds it until it is closed."""
    try:
        locks.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:  # no /run to write in: the locks hold within this grader only
        locks = _private_locks()
    folder = locks.lstat()
    if not stat.S_ISDIR(folder.st_mode) or folder.st_uid != os.geteuid() or folder.st_mode & 0o022:
        raise RuntimeError(f"{locks} must be a folder of the grader's that only it may write")
    running = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
    start = random.randrange(len(users))
    for offset in range(len(users)):
        uid = users[(start + offset) % len(users)]
        if uid in running:
            continue
        lock = os.fdopen(os.open(locks / str(uid), os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600), "r+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except BlockingIOError:
            lock.close()
    raise RuntimeError(f"all {len(users)} kernel users are in use")


@functools.cache
def _private_locks():
    return Path(tempfile.mkdtemp(prefix="rnnlab-kernel-users-"))


def remove_files_of(uid, folders=(tempfile.gettempdir(), "/var/tmp")):
    """Delete what user ``uid`` left at the top of the shared temporary folders."""
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


class SubmissionGroup:
    """The cgroup that holds every process of one kernel, orphans included (the jail joins it
    before it starts anything): at most ``memory_limit`` bytes of memory, what the kernel
    writes into its private tmpfs included, and ``TASK_LIMIT`` tasks.  cgroup v2 where this
    user may make a group with both controllers, else cgroup v1's memory and pids
    hierarchies, else none: then the watchdog alone holds the memory limit (``version``)."""

    def __init__(self, memory_limit, tasks=TASK_LIMIT):
        self.paths = []
        self.version = None
        self.memory_limited = self.tasks_limited = False
        name = f"rnnlab-{os.getpid()}-{next(_GROUP_NUMBERS)}"
        hierarchies = _cgroup_hierarchies()
        if "" in hierarchies:
            self._make_v2(hierarchies[""], name, memory_limit, tasks)
        if not self.paths:
            limits = {"memory.limit_in_bytes": memory_limit, "memory.memsw.limit_in_bytes": memory_limit}
            self.memory_limited = "memory" in hierarchies and self._make(hierarchies["memory"], name, limits)
            self.tasks_limited = "pids" in hierarchies and self._make(hierarchies["pids"], name, {"pids.max": tasks})
            if self.paths:
                self.version = "cgroup v1"

    def _make_v2(self, places, name, memory_limit, tasks):
        for parent in places:
            try:
                enabled = (parent / "cgroup.subtree_control").read_text().split()
                if not {"memory", "pids"} <= set(enabled):
                    (parent / "cgroup.subtree_control").write_text("+memory +pids")
            except OSError:
                continue
            if self._make([parent], name, {"memory.max": memory_limit, "memory.swap.max": 0,
                                           "memory.oom.group": 1, "pids.max": tasks}):
                self.version, self.memory_limited, self.tasks_limited = "cgroup v2", True, True
                return

    def _make(self, places, name, limits):
        for parent in places:
            _remove_groups_of_dead_graders(parent)
            path = parent / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                for file, value in limits.items():
                    if (path / file).exists():
                        (path / file).write_text(str(value))
            except OSError:
                path.rmdir()
                continue
            self.paths.append(path)
            return True
        return False

    def oom_kills(self):
        """How many processes the kernel's OOM killer took from the group so far."""
        total = 0
        for events in self._oom_events:
            try:
                lines = events.read_text().splitlines()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in lines if line.startswith("oom_kill "))
        return total

    @functools.cached_property
    def _oom_events(self):
        return [path / name for path in self.paths for name in ("memory.events", "memory.oom_control")
                if (path / name).exists()]

    def kill_all_and_remove(self):
        """Kill whatever is left in the group, then remove it."""
        for path in self.paths:
            _empty_and_remove(path)
        self.paths = []


def _empty_and_remove(group):
    """Kill every process in the cgroup folder ``group``, then remove it."""
    for _ in range(100):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            break
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        time.sleep(0.02)
    try:
        group.rmdir()
    except OSError:  # gone already, or a process in it could not be killed
        pass


_GROUP_NUMBERS = itertools.count()


def _remove_groups_of_dead_graders(parent):
    """Kill what the groups a grader that was killed left in ``parent`` (named after its pid)
    still hold, and remove them: a kernel whose grader died in the instant it started it
    outlives it."""
    for group in parent.glob("rnnlab-*-*"):
        grader = group.name.split("-")[1]
        if grader.isdigit() and not psutil.pid_exists(int(grader)):
            _empty_and_remove(group)


def _cgroup_hierarchies():
    """``{controller: [folders where a group may be made]}`` ("" for cgroup v2): this
    process's own group first, then the hierarchy's root."""
    mounts = {}
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            kind, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
            if kind == "cgroup2":
                mounts.setdefault("", fields[4])
            elif kind == "cgroup":
                for controller in ("memory", "pids"):
                    if controller in options:
                        mounts.setdefault(controller, fields[4])
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    except (OSError, ValueError, IndexError):
        return {}
    return {controller: list(dict.fromkeys([Path(mount + own.get(controller, "/")), Path(mount)]))
            for controller, mount in mounts.items()}


def kill_processes_of(uid):
    """Kill every process running as user ``uid`` (where no PID namespace holds them)."""
    for process in psutil.process_iter(["uids"]):
        if process.info["uids"] and process.info["uids"].real == uid:
            try:
                process.kill()
            except psutil.Error:
                pass


@dataclass(frozen=True)
class Sandbox:
    """How kernels are started on this machine: what the OS allowed of the isolation.

    ``namespaces``: those the jail makes, of "pid" (with a mount namespace and a root of the
    kernel's own: the allow-listed view), "net" and "user" (where the grader is not root).
    """

    namespaces: tuple = ()
    separate_user: bool = False  # the kernel runs as a user of its own (needs root)

    @property
    def network_blocked(self):
        """Whether kernels run in a network namespace of their own."""
        return "net" in self.namespaces

    @property
    def allow_listed(self):
        """Whether kernels see only their folder, the Python installation and the system's
        libraries, in a PID namespace of their own (no other process in view)."""
        return "pid" in self.namespaces

    def command(self, uid, folder, read, share, scratch, cgroups=()):
        """The prefix that starts a kernel command in this sandbox: in ``folder`` (copied
        into the kernel's private space of ``PRIVATE_SPACE`` bytes), seeing ``read`` read-only and
        ``share`` as they are, with ``scratch`` an empty folder for its root."""
        jail = [sys.executable, str(Path(__file__).with_name("jail.py")), f"--grader={os.getpid()}",
                f"--namespaces={','.join(self.namespaces)}"] + [f"--cgroup={c}" for c in cgroups]
        if self.separate_user:
            jail.append(f"--user={uid}")
        if self.allow_listed:
            jail += [f"--read={os.path.realpath(r)}" for r in read] + [f"--share={s}" for s in share]
            jail += [f"--folder={folder}", f"--space={PRIVATE_SPACE}", f"--scratch={scratch}"]
        return jail + ["--"]


def python_paths():
    """What a kernel needs to reach to run this Python: its installation and packages."""
    import site

    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(site.getsitepackages())
    return sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))


@functools.lru_cache(maxsize=1)
def sandbox():
    """The strongest ``Sandbox`` this machine allows, found by starting Python in each."""
    root = os.geteuid() == 0
    user = () if root else ("user",)
    candidates = [Sandbox(("pid", "net") + user, root), Sandbox(("pid",) + user, root)]
    if root:
        candidates.append(Sandbox((), separate_user=True))
    candidates.append(Sandbox())
    for candidate in candidates:
        probe = Path(tempfile.mkdtemp(prefix="rnnlab-probe-"))
        try:
            os.chmod(probe, 0o711)
            (probe / "folder").mkdir()
            (probe / "root").mkdir()
            if candidate.separate_user:
                os.chown(probe / "folder", KERNEL_USERS[0], KERNEL_USERS[0])
            command = candidate.command(KERNEL_USERS[0], str(probe / "folder"), python_paths(), [],
                                        str(probe / "root")) + [sys.executable, "-c", "import numpy, ipykernel"]
            if subprocess.run(command, capture_output=True, timeout=60, cwd=probe / "folder").returncode == 0:
                return candidate
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    return Sandbox()


class _IsolatedKernelManager(AsyncKernelManager):
    """Starts the kernel inside ``sandbox()``; ``jail`` is the command prefix to use and
    ``kernel_user`` the user who must be able to read the connection file."""

    jail: list[str] = []
    kernel_user = None

    def write_connection_file(self, **kwargs):
        result = super().write_connection_file(**kwargs)
        if self.kernel_user is not None:  # written by us into a folder only root may change
            os.chown(self.connection_file, self.kernel_user, self.kernel_user, follow_symlinks=False)
        return result

    def format_kernel_cmd(self, extra_arguments=None):
        return self.jail + super().format_kernel_cmd(extra_arguments)


class _CappedClient(NotebookClient):
    """Keeps at most ``OUTPUT_LIMIT`` characters of what one run shows, of every kind (text,
    images, HTML, widgets' data, display updates): text past the limit is cut, anything
    else that does not fit is dropped whole; ``dropped`` counts what was dropped, by kind."""

    printed = 0
    dropped: dict[str, int]  # set for each run

    def process_message(self, msg, cell, cell_index):
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type", "")
        content = msg.get("content") or {}
        if kind == "error":  # always kept (it makes the run an error), never long
            content = {**content, "evalue": str(content.get("evalue", ""))[:ERROR_LIMIT],
                       "traceback": [str(line)[:ERROR_LIMIT] for line in (content.get("traceback") or [])[-20:]]}
            msg = {**msg, "content": content}
        sizes = _output_sizes(kind, content)
        if sizes:
            room = OUTPUT_LIMIT - self.printed
            size = sum(sizes.values())
            self.printed += size
            if size > room:
                text_room = max(room, 0)
                for output, chars in sizes.items():
                    kept = min(chars, text_room) if output == "text" else 0
                    self.dropped[output] = self.dropped.get(output, 0) + chars - kept
                if kind != "stream" or text_room == 0:
                    return None
                msg = {**msg, "content": {**content, "text": content["text"][:text_room]}}
        return super().process_message(msg, cell, cell_index)


def _output_sizes(kind, content):
    """``{kind of output: characters}`` that a message from the kernel shows ({} for
    messages that show nothing: status, replies)."""
    sizes = {}
    if kind == "stream":
        sizes["text"] = len(str(content.get("text", "")))
    elif kind in ("display_data", "update_display_data", "execute_result"):
        for mime, value in (content.get("data") or {}).items():
            sizes[str(mime)] = sizes.get(str(mime), 0) + (len(value) if isinstance(value, str) else len(json.dumps(value)))
    elif kind.startswith("comm"):
        sizes["widget data"] = len(json.dumps(content.get("data", {}), default=str))
    return sizes


@dataclass(frozen=True)
class RunLimits:
    """What one piece of code may use: ``cpu`` seconds of CPU (the kernel's processes and the
    ``counted`` ones: the checker, while a question is checked), ``time`` seconds of wall time
    not counting the time those processes waited for a CPU (what it would take on an idle
    machine), and ``wall`` seconds of wall time in all, a ceiling that no load moves."""

    cpu: float
    time: float
    wall: float
    counted: tuple = ()


@dataclass
class Usage:
    """What one piece of code used: CPU seconds, wall seconds, and how many of those its
    processes spent waiting for a CPU (load), which no time limit counts."""

    cpu: float = 0.0
    wall: float = 0.0
    waited: float = 0.0

    @property
    def time(self):
        """Wall time less the waits for a CPU: about what the code would have taken on an idle
        machine.  Two processes may wait at once, so it is never taken below the CPU time."""
        return max(self.wall - self.waited, self.cpu)


@dataclass
class Outcome:
    """What became of one piece of code: ``ok``, ``error``, ``timeout``, ``memory`` or ``died``.
    A ``timeout`` says which limit in ``limit``: "cpu", "time" or "wall"."""

    status: str
    stdout: str = ""
    error: str = ""
    outputs: list = field(default_factory=list)
    dropped: dict = field(default_factory=dict)  # characters of output dropped, by kind
    usage: Usage = field(default_factory=Usage)
    limit: str = ""


class Stopwatch:
    """The CPU time of a process tree (``root`` and its descendants, with what they reaped)
    and of the processes ``counted``, and the time the main threads of ``main`` (the kernel;
    ``root`` by default) and of ``counted`` waited for a CPU (``/proc/<pid>/schedstat``; 0 where Linux keeps no such
    count), all since the stopwatch was made."""

    def __init__(self, root, counted=(), main=None):
        self.root = root
        self.main = main or root
        self.counted = [p for p in (_process(pid) for pid in counted) if p is not None]
        self.started = time.monotonic()
        self._delays = {}  # the last run-queue wait read of each process (it stays once a process is gone)
        self._cpu_start, self._waited_start = self._cpu(), self._waited()
        self._cpu_peak = self._cpu_start

    def _cpu(self, tree=None):
        if tree is None:
            try:
                tree = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                tree = []
        total = 0.0
        for process in tree + self.counted:
            try:
                times = process.cpu_times()
            except psutil.Error:  # ended since it was listed (its parent, in the tree, reaps it)
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def _waited(self):
        for process in [self.main] + self.counted:
            try:
                self._delays[process.pid] = int(Path(f"/proc/{process.pid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                pass
        return sum(self._delays.values()) / 1e9

    def usage(self, tree=None):
        """The ``Usage`` so far (the CPU time never goes down, though an orphan's is lost).
        ``tree``: ``root`` and its descendants, where the caller has just listed them."""
        self._cpu_peak = max(self._cpu_peak, self._cpu(tree))
        wall = time.monotonic() - self.started
        return Usage(self._cpu_peak - self._cpu_start, wall, min(max(self._waited() - self._waited_start, 0.0), wall))


def _process(pid):
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


class LimitedKernel:
    """A python3 kernel in ``cwd`` whose processes, every one it starts included, may use at
    most ``memory_limit`` bytes, in the strongest ``sandbox()`` this machine allows.

    ``peak_memory`` is the largest size the watchdog saw, over all restarts: the processes'
    anonymous memory, their shares of the pages they map with other processes, and what
    they wrote into their private space.  Where one limit holds for more than the kernel (a
    Gradescope container), the memory of the ``companions`` counts too, by their
    proportional size (libraries they share with the kernel count once).
    """

    def __init__(self, cwd, memory_limit):
        self.cwd = str(cwd)
        self.memory_limit = memory_limit
        self.sandbox = sandbox()
        self.user, self._user_lock = claim_kernel_user() if self.sandbox.separate_user else (None, None)
        self.client = None
        self.peak_memory = 0
        self.group = None  # of the last kernel started (emptied and removed once it stops)
        self._kernel_pid = None
        self._sockets = None
        self._owned = False
        self.companions = []  # pids of other processes whose memory counts against the limit
        self._over_memory = threading.Event()
        self._over_time = None  # which limit of the current run the watchdog enforced
        self._timed = None  # (Stopwatch, RunLimits) of the code running now
        self._stop = threading.Event()

    def start(self):
        """Start a fresh kernel (and its memory watchdog)."""
        # Ours: the connection file and the checker's sockets, in a folder the kernel's user
        # may pass through but not change.  The kernel's: a folder for its own sockets.
        self._sockets = tempfile.mkdtemp(prefix="rnnlab-kernel-")
        os.chmod(self._sockets, 0o711)
        kernel_sockets = os.path.join(self._sockets, "kernel")
        os.mkdir(kernel_sockets, 0o700)
        scratch = os.path.join(self._sockets, "root")
        os.mkdir(scratch, 0o700)
        if self.user is not None:
            os.chown(kernel_sockets, self.user, self.user)
            # Once, before any student code runs (later the tree is theirs); an allow-listed
            # kernel works in the jail's copy, which the jail gives it.
            if not self._owned and not self.sandbox.allow_listed:
                give_tree(self.cwd, self.user)
        self._owned = True
        self.group = SubmissionGroup(self.memory_limit)
        self.client = _CappedClient(nbformat.v4.new_notebook(), kernel_name="python3",
                                    allow_errors=True, interrupt_on_timeout=False,
                                    kernel_manager_class=_IsolatedKernelManager,
                                    resources={"metadata": {"path": self.cwd}})
        self.client.km = self.client.create_kernel_manager()
        self.client.km.jail = self.sandbox.command(self.user, self.cwd, python_paths(), [self._sockets], scratch,
                                                   [str(p) for p in self.group.paths])
        self.client.km.kernel_user = self.user
        self.client.km.transport = "ipc"
        self.client.km.ip = os.path.join(kernel_sockets, "kernel")
        self.client.km.connection_file = os.path.join(self._sockets, "kernel.json")
        self.client.start_new_kernel(cwd=self.cwd, env=_kernel_environment(self.cwd), stderr=subprocess.DEVNULL)
        self.client.start_new_kernel_client()
        self._kernel_pid = _find_kernel(self._top())  # it answered: it runs, and nothing else yet
        self._over_memory.clear()
        self._stop.clear()
        threading.Thread(target=self._watch, args=(self._top(),), daemon=True).start()

    def shutdown(self):
        """Stop the kernel and its watchdog, and kill whatever it left; safe to call twice."""
        self._stop.set()
        if self.client is not None and self.client.km is not None:
            try:
                if self.client.kc is not None:
                    self.client.kc.stop_channels()
                run_sync(self.client.km.shutdown_kernel)(now=True)
            except Exception:  # a kernel that already died has nothing left to stop
                pass
        if self.group is not None:
            self.group.kill_all_and_remove()
        if self.user is not None and not self.sandbox.allow_listed:
            kill_processes_of(self.user)  # no PID namespace holds its orphans
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None
        self.client = None

    def close(self):
        """Stop the kernel for good and free its user for another kernel; call it once the
        kernel's folder is gone, as what its user left in the shared temporary folders goes here."""
        self.shutdown()
        if self._user_lock is not None:
            if not self.sandbox.allow_listed:  # else its /tmp and /var/tmp were its own
                remove_files_of(self.user)
            self._user_lock.close()
            self._user_lock = None

    @property
    def pid(self):
        """The kernel's process id."""
        return self._kernel_pid

    @property
    def folder(self):
        """The kernel's folder as the grader's side reads it: the kernel's own copy, inside
        its private space, where it has one."""
        if self.sandbox.allow_listed and self._kernel_pid is not None:
            return f"/proc/{self._kernel_pid}/root{self.cwd}"
        return self.cwd

    def socket_path(self, name):
        """A path where the kernel may connect to a socket called ``name``."""
        return os.path.join(self._sockets, f"{name}.sock")

    def isolation(self):
        """What held for this kernel, as written into the results."""
        limits = self.group.version if self.group is not None and self.group.memory_limited else None
        return {"network_blocked": self.sandbox.network_blocked, "separate_user": self.sandbox.separate_user,
                "allow_listed_view": self.sandbox.allow_listed,
                "private_space": PRIVATE_SPACE if self.sandbox.allow_listed else None,
                "memory_limit": f"{limits} and the watchdog" if limits else "the watchdog",
                "watched": "the kernel's PID namespace" if self.sandbox.allow_listed else
                           "every process of the kernel's user" if self.user is not None else "the kernel's descendants",
                "tasks_capped": self.group is not None and self.group.tasks_limited}

    def run(self, source, limits):
        """Run ``source`` within ``limits`` (a ``RunLimits``); the ``Outcome`` says what it used."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, int(limits.wall))
        self.client.printed, self.client.dropped = 0, {}
        try:
            stopwatch = Stopwatch(self._top(), limits.counted, _process(self._kernel_pid))
        except psutil.Error:  # killed while the notebook was replayed after a restart
            return Outcome("died", error="found the kernel dead (it died while the notebook was replayed)")
        self._over_time, self._timed = None, (stopwatch, limits)
        try:
            outcome = self._execute(cell)
        finally:
            self._timed = None
            outcome_usage = stopwatch.usage()
        outcome.usage = outcome_usage
        outcome.dropped = dict(self.client.dropped)
        if outcome.status == "timeout" and not outcome.limit:
            outcome.limit = "wall"
        return outcome

    def _execute(self, cell):
        try:
            self.client.execute_cell(cell, 0)
        except CellTimeoutError:
            return Outcome("timeout", _stdout(cell), f"ran past the ceiling of {self.client.timeout} s of wall time")
        except DeadKernelError:
            return self._death(cell, "the kernel died (os._exit, a crash, or a signal)")
        except Exception as error:  # nbclient raises others when the kernel vanishes mid-reply
            if self._alive():
                raise
            return self._death(cell, f"the kernel stopped answering ({type(error).__name__})")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        outcome = Outcome("ok", _stdout(cell), "", cell.outputs)
        if errors:
            outcome.status, outcome.error = "error", f"{errors[0]['ename']}: {errors[0]['evalue']}"
        return outcome

    def _death(self, cell, otherwise):
        """The ``Outcome`` of a kernel that died: the watchdog's doing, the OS's (the memory
        limit of its cgroup), or the code's."""
        if self._over_memory.is_set() or (self.group is not None and self.group.oom_kills()):
            return Outcome("memory", _stdout(cell), f"went over the memory limit of {self.memory_limit // 2**20} MB")
        if self._over_time is not None:
            limit, message = self._over_time
            return Outcome("timeout", _stdout(cell), message, limit=limit)
        return Outcome("died", _stdout(cell), otherwise)

    def _alive(self):
        return run_sync(self.client.km.is_alive)()

    def _top(self):
        """The first process of the kernel's sandbox: everything of the kernel descends from it."""
        provisioner = getattr(self.client.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return psutil.Process(process.pid)

    def _watch(self, top):
        # Anonymous memory (what a memory bomb grows) is read every tick, cheaply; shares of
        # the pages several processes map (torch's libraries, in the kernel and the checker
        # alike), and what the kernel wrote into its private space, every SHARED_EVERY ticks.
        # The running code's CPU and time are read every tick too.  In a PID namespace an
        # orphan is re-parented inside it, so it stays in ``top``'s tree; where there is none,
        # every process of the kernel's user is watched.
        shared, strays, ticks = 0, [], 0
        group = self.group
        while not self._stop.wait(WATCHDOG_PERIOD):
            try:
                tree = [top] + top.children(recursive=True)
            except psutil.Error:
                return  # the kernel is gone
            if ticks % SHARED_EVERY == 0:
                if self.user is not None and not self.sandbox.allow_listed:
                    known = {p.pid for p in tree}
                    strays = [p for p in psutil.process_iter(["uids"]) if p.pid not in known
                              and p.info["uids"] and p.info["uids"].real == self.user]
                shared = (sum(_shared_pages(p.pid) for p in tree + strays) + self._space_used()
                          + sum(_smaps_rollup(pid).get("Pss", 0) for pid in self.companions))
            ticks += 1
            tree += strays
            used = sum(_anonymous_size(p) for p in tree) + shared
            self.peak_memory = max(self.peak_memory, used)
            over_time = self._time_limit_reached(tree)
            # The cgroup's limit may strike first (a fast allocation, between two ticks): the
            # OOM killer takes one process; the rest of the submission goes with it.
            over_memory = used > self.memory_limit or (group is not None and group.oom_kills() > 0)
            if over_memory or over_time:
                if over_time:
                    self._over_time = over_time
                else:
                    self._over_memory.set()
                for p in tree:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                return

    def _space_used(self):
        """Bytes in the kernel's private space (0 where it has none)."""
        if not self.sandbox.allow_listed or self._kernel_pid is None:
            return 0
        try:
            space = os.statvfs(f"/proc/{self._kernel_pid}/root/tmp")
        except OSError:
            return 0
        return (space.f_blocks - space.f_bfree) * space.f_frsize

    def _time_limit_reached(self, tree):
        """``(limit, message)`` when the code running now has used up its CPU or its time
        (``tree``: the kernel's processes, as the watchdog just listed them)."""
        timed = self._timed
        if timed is None:
            return None
        stopwatch, limits = timed
        usage = stopwatch.usage(tree)
        found = None
        if usage.cpu > limits.cpu:
            found = "cpu", f"used more than {limits.cpu:.0f} s of CPU time"
        elif usage.time > limits.time:
            waited = f", not counting {usage.waited:.0f} s spent waiting for a busy CPU" if usage.waited >= 1 else ""
            found = "time", f"ran for more than {limits.time:.0f} s{waited}, using {usage.cpu:.1f} s of CPU"
        # The code may have finished while its usage was read: then nothing is killed.
        return found if self._timed is timed else None


def _find_kernel(top):
    """The kernel's own process below ``top`` (the jail's stages and ``unshare`` come first),
    found before any student code runs; ``top`` itself where nothing stands between."""
    for process in [top] + top.children(recursive=True):
        try:
            if process.cmdline()[1:3] == ["-m", "ipykernel_launcher"]:
                return process.pid
        except psutil.Error:
            continue
    return top.pid


def _anonymous_size(process):
    """Resident memory of ``process`` that is not file-backed or shared memory (0 once it is gone)."""
    try:
        info = process.memory_info()
    except psutil.Error:  # a child that ended since it was listed
        return 0
    return info.rss - info.shared


def _smaps_rollup(pid):
    """The sizes of ``/proc/<pid>/smaps_rollup`` in bytes by field ({} where it cannot be read)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        return {name: int(value.split()[0]) * 1024 for name, value in (line.split(":", 1) for line in lines)}
    except (OSError, ValueError):
        return {}


def _shared_pages(pid):
    """The process's proportional share of its file-backed and shared-memory pages."""
    sizes = _smaps_rollup(pid)
    if "Pss_File" in sizes:
        return sizes["Pss_File"] + sizes.get("Pss_Shmem", 0)
    return max(sizes.get("Pss", 0) - sizes.get("Anonymous", 0), 0)  # kernels before Linux 5.5


def _kernel_environment(home):
    """Only what a notebook needs of the grader's environment (nothing of its secrets), the
    GPUs the grader sees included (the checks pick the device on the grader's side).

    One thread per numerical library: the same results on every machine, and no
    oversubscription when submissions are graded side by side (Gradescope gives half a vCPU).
    The submission's folder is the kernel's home, where its user may write."""
    kept = {name: value for name, value in os.environ.items()
            if name in ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "MPLBACKEND", "CUDA_VISIBLE_DEVICES",
                        *PLATFORM_VARIABLES)
            or name.startswith(("LC_", "RNNLAB_"))}
    return {**kept, **thread_pinning(), "HOME": home,
            "MPLCONFIGDIR": os.path.join(home, ".matplotlib"), "IPYTHONDIR": os.path.join(home, ".ipython")}


def thread_pinning():
    """The variables that give each numerical library ``$RNNLAB_THREADS`` threads (default 1)."""
    wanted = os.environ.get(THREADS_VARIABLE, "1")
    threads = int(wanted) if wanted.isdigit() and 1 <= int(wanted) <= 64 else 1
    return {name: str(threads) for name in THREAD_VARIABLES}


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")

