"""A Jupyter kernel that runs untrusted code under time, CPU and memory limits.

Student code runs in the kernel process only.  A watchdog thread sums the resident memory
of the kernel and its children and kills the kernel when it goes over the limit; it also
times each piece of code, by the CPU time of those processes (and of the checker, while it
checks) and by the wall time they did not spend waiting for a CPU, so that a busy machine
costs no time; what the code prints is capped.  Where the OS allows
it the kernel starts in a network namespace of its own, with no network at all, and talks
to us over Unix sockets.  Whatever happens (timeout, crash, ``os._exit``, memory),
``run`` returns an ``Outcome`` instead of raising.
"""

import fcntl
import functools
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
# What one piece of code may print before the rest is dropped (the grade is still written).
OUTPUT_LIMIT = 1_000_000
# Tasks (processes and threads) the kernel may have: a kernel with torch loaded uses ~20.
TASK_LIMIT = 256
PIDS_CGROUPS = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]
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


class TaskLimit:
    """A pids cgroup that caps how many tasks a process tree may have (a fork bomb stops
    there); where the machine offers none (not root, no pids controller) it does nothing."""

    def __init__(self, limit=TASK_LIMIT):
        self.path = None
        for root in PIDS_CGROUPS:
            if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
                continue
            if root.name != "pids" and "pids" not in (root / "cgroup.controllers").read_text():
                continue
            path = root / f"rnnlab-{os.getpid()}-{id(self)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
            except OSError:
                if path.exists():
                    path.rmdir()
                continue
            self.path = path
            return

    def add(self, pid):
        """Put process ``pid`` (and so all it will start) under the cap."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(pid))

    def kill_all_and_remove(self):
        """Kill whatever is left in the group, then remove it."""
        if self.path is None:
            return
        for _ in range(50):
            pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            self.path.rmdir()
        except OSError:
            pass
        self.path = None


@dataclass(frozen=True)
class Sandbox:
    """How kernels are started on this machine: what the OS allowed of the isolation."""

    unshare: tuple = ()          # the ``unshare`` command, or () where the OS refuses it
    separate_user: bool = False  # the kernel runs as a user of its own (needs root)
    mounts: bool = False         # a mount namespace hides the private paths

    @property
    def network_blocked(self):
        """Whether kernels run in a network namespace of their own."""
        return "--net" in self.unshare

    def command(self, uid, hidden, reachable):
        """The prefix that starts a kernel command in this sandbox.  A hidden folder that
        holds something the kernel needs (Python, its own folder) is left in view: hide
        the private files inside it instead."""
        reachable = [os.path.realpath(r) for r in reachable]
        hidden = [p for p in dict.fromkeys(map(os.path.realpath, hidden))
                  if not any(_within(r, p) for r in reachable)]
        folders = {p for p in hidden if os.path.isdir(p)}
        hidden = [p for p in hidden  # what a hidden folder covers needs no mount of its own
                  if not any(a in folders for a in _ancestors(p))]
        if not self.unshare and not self.separate_user:
            return []
        jail = [sys.executable, str(Path(__file__).with_name("jail.py"))]
        if self.separate_user:
            jail += ["--user", str(uid)]
        if self.mounts:
            jail += [f"--hide={p}" for p in hidden] + [f"--reach={p}" for p in reachable] + ["--private-shm"]
        if not self.mounts and not self.separate_user:
            return list(self.unshare)
        return list(self.unshare) + jail + ["--"]


def _within(path, folder):
    """Whether ``path`` is ``folder`` or inside it (both already resolved)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _ancestors(path):
    parent = os.path.dirname(path)
    while parent != path:
        yield parent
        path, parent = parent, os.path.dirname(parent)


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
    namespaces = [["unshare", "--net", "--mount"], ["unshare", "--mount"]] if root else \
        [["unshare", "--user", "--map-root-user", "--net", "--mount"],
         ["unshare", "--user", "--map-root-user", "--mount"]]
    candidates = [Sandbox(tuple(n), separate_user=root, mounts=True) for n in namespaces]
    if root:
        candidates.append(Sandbox((), separate_user=True))
    candidates += [Sandbox(("unshare", "--net")), Sandbox(("unshare", "--net", "--map-root-user")), Sandbox()]
    for candidate in candidates:
        probe = tempfile.mkdtemp(prefix="rnnlab-probe-")
        try:
            os.chmod(probe, 0o755)
            command = candidate.command(KERNEL_USERS[0], [], python_paths()) + [
                sys.executable, "-c", "import numpy, ipykernel"]
            if subprocess.run(command, capture_output=True, timeout=60, cwd=probe).returncode == 0:
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
    """Drops output past ``OUTPUT_LIMIT`` characters per run."""

    printed = 0
    truncated = False

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        text = content.get("text", "")
        size = len(text) + sum(len(str(v)) for v in content.get("data", {}).values())
        room = OUTPUT_LIMIT - self.printed
        self.printed += size
        if size > room:
            self.truncated = True
            if room <= 0:
                return None
            msg = {**msg, "content": {**content, "text": text[:room]}}
        return super().output(outs, msg, display_id, cell_index)


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
    truncated: bool = False
    usage: Usage = field(default_factory=Usage)
    limit: str = ""


class Stopwatch:
    """The CPU time of a process tree (``root`` and its descendants, with what they reaped)
    and of the processes ``counted``, and the time the main threads of ``root`` and of
    ``counted`` waited for a CPU (``/proc/<pid>/schedstat``; 0 where Linux keeps no such
    count), all since the stopwatch was made."""

    def __init__(self, root, counted=()):
        self.root = root
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
        for process in [self.root] + self.counted:
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
    """A python3 kernel in ``cwd`` whose process tree may use at most ``memory_limit`` bytes,
    with the paths in ``hidden`` out of its view where ``sandbox()`` allows it.

    ``peak_memory`` is the largest size the watchdog saw, over all restarts: the tree's
    anonymous memory plus its shares of the pages it maps with other processes.  Where one
    limit holds for more than the kernel (a Gradescope container), the memory of the
    ``companions`` counts too, by their proportional size (libraries they share with the
    kernel count once).
    """

    def __init__(self, cwd, memory_limit, hidden=()):
        self.cwd = str(cwd)
        self.memory_limit = memory_limit
        self.hidden = [str(p) for p in hidden]
        self.sandbox = sandbox()
        self.user, self._user_lock = claim_kernel_user() if self.sandbox.separate_user else (None, None)
        self.client = None
        self.peak_memory = 0
        self.tasks_capped = False
        self._tasks = None
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
        if self.user is not None:
            os.chown(kernel_sockets, self.user, self.user)
            if not self._owned:  # once, before any student code runs: later the tree is theirs
                _chown_tree(self.cwd, self.user)
                os.chmod(self.cwd, 0o700)
        self._owned = True
        self.client = _CappedClient(nbformat.v4.new_notebook(), kernel_name="python3",
                                    allow_errors=True, interrupt_on_timeout=False,
                                    kernel_manager_class=_IsolatedKernelManager,
                                    resources={"metadata": {"path": self.cwd}})
        self.client.km = self.client.create_kernel_manager()
        self.client.km.jail = self.sandbox.command(self.user, self.hidden, python_paths() + [self.cwd])
        self.client.km.kernel_user = self.user
        self.client.km.transport = "ipc"
        self.client.km.ip = os.path.join(kernel_sockets, "kernel")
        self.client.km.connection_file = os.path.join(self._sockets, "kernel.json")
        self.client.start_new_kernel(cwd=self.cwd, env=_kernel_environment(self.cwd), stderr=subprocess.DEVNULL)
        self._tasks = TaskLimit()
        self._tasks.add(self._kernel_process().pid)
        self.tasks_capped = self._tasks.path is not None
        self.client.start_new_kernel_client()
        self._over_memory.clear()
        self._stop.clear()
        threading.Thread(target=self._watch, args=(self._kernel_process(),), daemon=True).start()

    def shutdown(self):
        """Stop the kernel and its watchdog; safe to call twice."""
        self._stop.set()
        if self.client is not None and self.client.km is not None:
            try:
                if self.client.kc is not None:
                    self.client.kc.stop_channels()
                run_sync(self.client.km.shutdown_kernel)(now=True)
            except Exception:  # a kernel that already died has nothing left to stop
                pass
        if self._tasks is not None:
            self._tasks.kill_all_and_remove()
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None
        self.client = None

    def close(self):
        """Stop the kernel for good and free its user for another kernel; call it once the
        kernel's folder is gone, as what its user left in the shared temporary folders goes here."""
        self.shutdown()
        if self._user_lock is not None:
            remove_files_of(self.user)
            self._user_lock.close()
            self._user_lock = None

    @property
    def pid(self):
        """The kernel's process id."""
        return self._kernel_process().pid

    def socket_path(self, name):
        """A path where the kernel may connect to a socket called ``name``."""
        return os.path.join(self._sockets, f"{name}.sock")

    def isolation(self):
        """What held for this kernel, as written into the results."""
        return {"network_blocked": self.sandbox.network_blocked, "tasks_capped": self.tasks_capped,
                "separate_user": self.sandbox.separate_user, "private_files_hidden": self.sandbox.mounts}

    def run(self, source, limits):
        """Run ``source`` within ``limits`` (a ``RunLimits``); the ``Outcome`` says what it used."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, int(limits.wall))
        self.client.printed, self.client.truncated = 0, False
        try:
            stopwatch = Stopwatch(self._kernel_process(), limits.counted)
        except psutil.Error:  # killed while the notebook was replayed after a restart
            return Outcome("died", error="found the kernel dead (it died while the notebook was replayed)")
        self._over_time, self._timed = None, (stopwatch, limits)
        try:
            outcome = self._execute(cell)
        finally:
            self._timed = None
            outcome_usage = stopwatch.usage()
        outcome.usage = outcome_usage
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
        outcome = Outcome("ok", _stdout(cell), "", cell.outputs, self.client.truncated)
        if errors:
            outcome.status, outcome.error = "error", f"{errors[0]['ename']}: {errors[0]['evalue']}"
        return outcome

    def _death(self, cell, otherwise):
        """The ``Outcome`` of a kernel that died: the watchdog's doing, or the code's."""
        if self._over_memory.is_set():
            return Outcome("memory", _stdout(cell), f"went over the memory limit of {self.memory_limit // 2**20} MB")
        if self._over_time is not None:
            limit, message = self._over_time
            return Outcome("timeout", _stdout(cell), message, limit=limit)
        return Outcome("died", _stdout(cell), otherwise)

    def _alive(self):
        return run_sync(self.client.km.is_alive)()

    def _kernel_process(self):
        provisioner = getattr(self.client.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return psutil.Process(process.pid)

    def _watch(self, process):
        # Anonymous memory (what a memory bomb grows) is read every tick, cheaply; shares of
        # the pages several processes map (torch's libraries, in the kernel and the checker
        # alike) every SHARED_EVERY ticks, so that they count once, as the container counts them.
        # The running code's CPU and time are read every tick too.
        shared, ticks = 0, 0
        while not self._stop.wait(WATCHDOG_PERIOD):
            try:
                tree = [process] + process.children(recursive=True)
            except psutil.Error:
                return  # the kernel is gone
            if ticks % SHARED_EVERY == 0:
                shared = (sum(_shared_pages(p.pid) for p in tree)
                          + sum(_smaps_rollup(pid).get("Pss", 0) for pid in self.companions))
            ticks += 1
            used = sum(_anonymous_size(p) for p in tree) + shared
            self.peak_memory = max(self.peak_memory, used)
            over_time = self._time_limit_reached(tree)
            if used > self.memory_limit or over_time:
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


def _chown_tree(path, user):
    os.chown(path, user, user, follow_symlinks=False)
    for folder, names, files, descriptor in os.fwalk(path, follow_symlinks=False):
        for name in names + files:
            os.chown(name, user, user, dir_fd=descriptor, follow_symlinks=False)


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")

