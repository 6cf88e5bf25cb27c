"""A Jupyter kernel that runs untrusted code under time, CPU, memory and disk limits.

Student code runs in the kernel's processes only, started through the jail in the strongest
``Sandbox`` the machine allows (``isolation``: a root of its own or a Landlock allow-list, the
seccomp filter, a user of its own, a cgroup or ``RLIMIT_NPROC``).  A watchdog thread sums the
memory of all those processes (and what they wrote into their private space) and kills them
all above the limit, and where they write on the machine's disk, it counts those bytes too; it
also times each piece of code, by the CPU time of those processes (and of the checker, while it
checks) and by the wall time they did not spend waiting for a CPU, so that a busy machine
costs no time; what the code shows is capped.  The kernel talks to us over Unix sockets.
Whatever happens (timeout, crash, ``os._exit``, memory, disk), ``run`` returns an ``Outcome``
instead of raising; when it stops, nothing of it is left: no process, no file.
"""

import json
import os
import shutil
import subprocess
import tempfile
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

from .isolation.cgroups import TASK_LIMIT, SubmissionGroup
from .isolation.probe import python_paths, sandbox
from .isolation.users import (bytes_used, claim_kernel_user, files_of, give_tree, kill_processes_of,
                              remove_files_of, remove_tree)

try:  # jupyter_client imports it on a kernel's first start: two grading threads raced on that import
    import IPython.paths  # noqa: F401
except ModuleNotFoundError:
    pass

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
# Bytes a kernel may write, all places together (its folder, its temporary folders): one tmpfs
# where it has a root of its own (which also counts against its memory), else counted by the
# watchdog.  A submission unpacks to at most 200 MB (``grading.MAX_ZIP_BYTES``).
PRIVATE_SPACE = 256 * 2**20


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
    """A python3 kernel in a copy of ``cwd`` whose processes, every one it starts included, may
    use at most ``memory_limit`` bytes and write at most ``PRIVATE_SPACE``, in the strongest
    ``sandbox()`` this machine allows.

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
        self._first = None  # the first process of the last kernel started (``_top``)
        self.companions = []  # pids of other processes whose memory counts against the limit
        self._over_limit = None  # (status, message) of the limit the watchdog enforced
        self._timed = None  # (Stopwatch, RunLimits) of the code running now
        self._stop = threading.Event()

    def start(self):
        """Start a fresh kernel (and its watchdog), in a fresh copy of the submission's folder."""
        # Ours: the connection file and the checker's sockets, in a folder the kernel's user
        # may pass through but not change.  The kernel's: a folder for its own sockets, and,
        # where it has no root of its own, its copy of the folder and its temporary folder.
        self._sockets = tempfile.mkdtemp(prefix="rnnlab-kernel-")
        os.chmod(self._sockets, 0o711)
        own = {name: os.path.join(self._sockets, name) for name in ("kernel", "folder", "tmp", "root")}
        for name in ("kernel", "tmp", "root"):
            os.mkdir(own[name], 0o700)
        if not self.sandbox.own_root:  # else the jail copies it into the kernel's private space
            shutil.copytree(self.cwd, own["folder"], symlinks=True)
            give_tree(own["folder"], self.user)
        for name in ("kernel", "tmp"):
            give_tree(own[name], self.user)
        self.group = SubmissionGroup(self.memory_limit)
        self.client = _CappedClient(nbformat.v4.new_notebook(), kernel_name="python3",
                                    allow_errors=True, interrupt_on_timeout=False,
                                    kernel_manager_class=_IsolatedKernelManager,
                                    resources={"metadata": {"path": self._folder}})
        self.client.km = self.client.create_kernel_manager()
        self.client.km.jail = self.sandbox.command(
            self.user, self._folder, python_paths(), [self._sockets], own["root"], own["tmp"],
            [str(p) for p in self.group.paths], space=PRIVATE_SPACE, tasks=TASK_LIMIT, write=[own["kernel"]])
        self.client.km.kernel_user = self.user
        self.client.km.transport = "ipc"
        self.client.km.ip = os.path.join(own["kernel"], "kernel")
        self.client.km.connection_file = os.path.join(self._sockets, "kernel.json")
        self.client.start_new_kernel(cwd=self._folder, env=_kernel_environment(self._folder),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._first = psutil.Process(self.client.km.provisioner.process.pid)
        self.client.start_new_kernel_client()
        self._kernel_pid = _find_kernel(self._top())  # it answered: it runs, and nothing else yet
        self._over_limit = None
        # A watchdog of its own, with a stop of its own: the last kernel's, should it still be
        # in a tick, never watches (or kills) what took its processes' numbers.
        self._stop = threading.Event()
        threading.Thread(target=self._watch, args=(self._top(), self._stop), daemon=True).start()

    @property
    def _folder(self):
        """The kernel's folder, as the kernel sees it."""
        return self.cwd if self.sandbox.own_root else os.path.join(self._sockets, "folder")

    def shutdown(self):
        """Stop the kernel and its watchdog, and kill whatever it left, and remove what it
        wrote; safe to call twice."""
        self._stop.set()
        if self.client is not None and self.client.km is not None:
            if not self.sandbox.own_root:  # no namespace to take them: while the jail, their reaper, lives
                _kill_descendants(self._top_or_none())
            try:
                if self.client.kc is not None:
                    self.client.kc.stop_channels()
                run_sync(self.client.km.shutdown_kernel)(now=True)
            except Exception:  # a kernel that already died has nothing left to stop
                pass
        if self.group is not None:
            self.group.kill_all_and_remove()
        if self.user is not None and not self.sandbox.own_root:
            if not kill_processes_of(self.user):
                raise RuntimeError(f"the processes of the kernel's user {self.user} could not be killed")
            if not self.sandbox.allow_listed:
                remove_files_of(self.user)
        if self._sockets is not None:
            remove_tree(self._sockets)
            self._sockets = None
        self.client = None

    def close(self):
        """Stop the kernel for good and free its user for another kernel."""
        self.shutdown()
        if self._user_lock is not None:
            self._user_lock.close()
            self._user_lock = None

    @property
    def pid(self):
        """The kernel's process id."""
        return self._kernel_pid

    @property
    def folder(self):
        """The kernel's folder as the grader's side reads it: the kernel's own copy, inside
        its private space where it has one."""
        if self.sandbox.own_root and self._kernel_pid is not None:
            return f"/proc/{self._kernel_pid}/root{self.cwd}"
        return self._folder

    def socket_path(self, name):
        """A path where the kernel may listen on a socket called ``name`` (in its own folder
        for sockets)."""
        return os.path.join(self._sockets, "kernel", f"{name}.sock")

    def isolation(self):
        """What held for this kernel, as written into the results: for each layer, what held
        it (false where nothing did)."""
        box = self.sandbox
        cgroup = self.group.version if self.group is not None else None
        return {"allow_listed_view": "a root of its own" if box.own_root else
                                     f"Landlock ABI {box.landlock}" if box.landlock else False,
                "network_blocked": box.network_blocked or False,
                "syscall_filter": "seccomp" if box.seccomp else False,
                "separate_user": box.separate_user,
                "private_space": PRIVATE_SPACE,
                "disk_limit": "a tmpfs of its own" if box.own_root else "the watchdog",
                "memory_limit": f"{cgroup} and the watchdog" if cgroup and self.group.memory_limited else "the watchdog",
                "watched": "the kernel's PID namespace" if box.own_root else
                           "the kernel's descendants and every process of its user" if self.user is not None else
                           "the kernel's descendants",
                "tasks_capped": cgroup if cgroup and self.group.tasks_limited else "RLIMIT_NPROC",
                "others_out_of_view": "a PID namespace" if box.own_root else
                                      "its own user" if box.separate_user else "Landlock"}

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
        self._timed = stopwatch, limits
        try:
            outcome = self._execute(cell)
        finally:
            self._timed = None
            outcome_usage = stopwatch.usage()
        over = self._over_what_it_left() if outcome.status in ("ok", "error") else None
        if outcome.status in ("ok", "error") and self._over_limit is not None:
            # The watchdog struck after the code's reply was sent and before it was read (a
            # loaded machine): the code that ran is what broke the limit, not the next.
            over = self._over_limit
        if over:
            # Faster than the watchdog's count: the code that left it fails, and what it left
            # goes with the kernel (a restarted one starts from the submission as handed in).
            self._kill(self._tree())
            outcome = Outcome(over[0], outcome.stdout, over[1], limit=over[2] if len(over) > 2 else "")
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
        if self._over_limit is None and self.group is not None and self.group.oom_kills():
            self._over_limit = "memory", self._memory_message, ""
        if self._over_limit is not None:
            status, message, limit = self._over_limit
            return Outcome(status, _stdout(cell), message, limit=limit)
        return Outcome("died", _stdout(cell), otherwise)

    @property
    def _memory_message(self):
        return f"went over the memory limit of {self.memory_limit // 2**20} MB"

    def _alive(self):
        return run_sync(self.client.km.is_alive)()

    def _top(self):
        """The first process of the kernel's sandbox: everything of the kernel descends from it.
        The one found as the kernel started, or ``NoSuchProcess``: never another process that
        took its number since."""
        if self._first is None or not self._first.is_running():
            raise psutil.NoSuchProcess(self._first.pid if self._first is not None else -1)
        return self._first

    def _top_or_none(self):
        try:
            return self._top()
        except (psutil.Error, AttributeError):
            return None

    def _watch(self, top, stop):
        # Anonymous memory (what a memory bomb grows) is read every tick, cheaply; shares of
        # the pages several processes map (torch's libraries, in the kernel and the checker
        # alike), and what the kernel wrote, every SHARED_EVERY ticks (and after each cell and
        # question).  The running code's CPU and time are read every tick too.  Orphans stay
        # in ``top``'s tree (re-parented to process 1 of its PID namespace, or to the jail,
        # their subreaper); where the kernel has a user of its own, every process of that user
        # is watched too.
        shared, written, strays, ticks = 0, 0, [], 0
        group = self.group
        while not stop.wait(WATCHDOG_PERIOD):
            try:
                if not top.is_running():  # gone, and its number perhaps another process's
                    return
                tree = [top] + top.children(recursive=True)
            except psutil.Error:
                return  # the kernel is gone
            if ticks % SHARED_EVERY == 0:
                strays = self._strays(tree)
                written = self._bytes_written()
                shared = self._shared_size(tree + strays, written)
            ticks += 1
            tree += strays
            used = sum(_anonymous_size(p) for p in tree) + shared
            self.peak_memory = max(self.peak_memory, used)
            over_time = self._time_limit_reached(tree)
            # The cgroup's limit may strike first (a fast allocation, between two ticks): the
            # OOM killer takes one process; the rest of the submission goes with it.
            if used > self.memory_limit or (group is not None and group.oom_kills() > 0):
                self._over_limit = "memory", self._memory_message, ""
            elif over_time:
                self._over_limit = "timeout", over_time[1], over_time[0]
            elif written > PRIVATE_SPACE:  # a tmpfs of its own is full before that
                self._over_limit = "disk", self._disk_message, ""
            elif self._counts_tasks and sum(_threads(p) for p in tree) > TASK_LIMIT:
                self._over_limit = "tasks", self._tasks_message, ""
            else:
                continue
            self._kill(tree)
            return

    def _strays(self, tree):
        """The processes of the kernel's own user outside ``tree`` (none where a PID namespace
        holds them all, or the kernel runs as the grader's user)."""
        if self.user is None or self.sandbox.own_root:
            return []
        known = {p.pid for p in tree}
        return [p for p in psutil.process_iter(["uids"]) if p.pid not in known
                and p.info["uids"] and p.info["uids"].real == self.user]

    def _shared_size(self, processes, written):
        """What the kernel's ``processes`` hold besides their anonymous memory: their shares of
        the pages they map with others, their private space (a tmpfs: ``written`` bytes), and
        the companions' proportional sizes."""
        in_memory = written if self.sandbox.own_root else 0
        return (sum(_shared_pages(p.pid) for p in processes) + in_memory
                + sum(_smaps_rollup(pid).get("Pss", 0) for pid in self.companions))

    _disk_message = f"wrote more than {PRIVATE_SPACE // 2**20} MB of files"
    _tasks_message = f"ran more than {TASK_LIMIT} processes and threads at once"

    @property
    def _counts_tasks(self):
        """Whether the watchdog holds the kernel to its tasks: where it shares its user's task
        limit with the grader."""
        return self.user is None and not self.sandbox.own_root

    def _over_what_it_left(self):
        """``(status, message)`` where the code that just ran left more memory, files or tasks
        than the kernel may have (the watchdog reads some of them only every half second);
        else None."""
        tree = self._tree()
        tree += self._strays(tree)
        written = self._bytes_written()
        used = sum(_anonymous_size(p) for p in tree) + self._shared_size(tree, written)
        self.peak_memory = max(self.peak_memory, used)
        if used > self.memory_limit:
            return "memory", self._memory_message
        if written > PRIVATE_SPACE:
            return "disk", self._disk_message
        if self._counts_tasks and sum(_threads(p) for p in tree) > TASK_LIMIT:
            return "tasks", self._tasks_message
        return None

    def _tree(self):
        """The kernel's processes now (none once it is gone)."""
        top = self._top_or_none()
        try:
            return [top] + top.children(recursive=True) if top is not None else []
        except psutil.Error:
            return []

    def _kill(self, tree):
        """Kill the kernel's processes ``tree`` (its first process first in the list).  Where
        no PID namespace takes them all with its first process, every process below that one,
        the subreaper of every orphan, goes first, and it last."""
        if tree and not self.sandbox.own_root:
            _kill_descendants(tree[0])
        for process in reversed(tree):
            try:
                process.kill()
            except psutil.Error:
                pass

    def _bytes_written(self):
        """Bytes the kernel has written: in its private space where it has one, else into its
        folders and, where no Landlock keeps it there, into the machine's shared places."""
        if self.sandbox.own_root:
            if self._kernel_pid is None:
                return 0
            try:
                space = os.statvfs(f"/proc/{self._kernel_pid}/root/tmp")
            except OSError:
                return 0
            return (space.f_blocks - space.f_bfree) * space.f_frsize
        if self._sockets is None:
            return 0
        places = [os.path.join(self._sockets, name) for name in ("folder", "tmp", "kernel")]
        if self.user is not None and not self.sandbox.allow_listed:
            places += files_of(self.user)
        return bytes_used(places, stop_above=PRIVATE_SPACE) + _deleted_but_open(self._tree())

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


def _kill_descendants(top):
    """Kill every process below ``top`` (None: none), as long as it takes: ``top``, the jail,
    is the subreaper of every orphan among them, so none escapes while it lives."""
    if top is None:
        return
    for _ in range(500):
        try:
            if not top.is_running():  # its number may be another process's by now
                return
            below = top.children(recursive=True)
        except psutil.Error:
            return
        if not below:
            return
        for process in below:
            try:
                process.kill()
            except psutil.Error:
                pass
        time.sleep(0.01)


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
    """The process's proportional share of its file-backed and shared-memory pages.  Where its
    sizes are closed to the grader (root in a container has no CAP_SYS_PTRACE to read another
    user's), its shared memory in full: a shared anonymous mapping is no one's anonymous memory."""
    sizes = _smaps_rollup(pid)
    if "Pss_File" in sizes:
        return sizes["Pss_File"] + sizes.get("Pss_Shmem", 0)
    if sizes:
        return max(sizes.get("Pss", 0) - sizes.get("Anonymous", 0), 0)  # kernels before Linux 5.5
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("RssShmem:")), 0)


def _threads(process):
    """The tasks (threads) of ``process`` (0 once it is gone)."""
    try:
        return process.num_threads()
    except psutil.Error:
        return 0


def _deleted_but_open(processes):
    """Bytes of the files that ``processes`` hold open after deleting them (where the grader may
    read their open files: the same user, or root with CAP_SYS_PTRACE)."""
    total = 0
    for process in processes:
        try:
            descriptors = os.listdir(f"/proc/{process.pid}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            path = f"/proc/{process.pid}/fd/{descriptor}"
            try:
                if os.readlink(path).endswith(" (deleted)"):
                    total += os.stat(path).st_blocks * 512
            except OSError:
                continue
    return total


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

