"""A Jupyter kernel that runs untrusted code under a time and a memory limit.

Student code runs in the kernel process only.  Each piece of code gets a timeout; a
watchdog thread sums the resident memory of the kernel and its children and kills the
kernel when it goes over the limit; what the code prints is capped.  Where the OS allows
it the kernel starts in a network namespace of its own, with no network at all, and talks
to us over Unix sockets.  Whatever happens (timeout, crash, ``os._exit``, memory),
``run`` returns an ``Outcome`` instead of raising.
"""

import functools
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

WATCHDOG_PERIOD = 0.05
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
# What one piece of code may print before the rest is dropped (the grade is still written).
OUTPUT_LIMIT = 1_000_000
# Tasks (processes and threads) the kernel may have: a kernel with torch loaded uses ~20.
TASK_LIMIT = 256
PIDS_CGROUPS = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]


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


@functools.lru_cache(maxsize=1)
def network_isolation():
    """The command prefix that gives a process no network, or [] where the OS refuses it."""
    for prefix in (["unshare", "--net"], ["unshare", "--net", "--map-root-user"]):
        try:
            if subprocess.run(prefix + ["true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.TimeoutExpired):
            pass
    return []


class _IsolatedKernelManager(AsyncKernelManager):
    """Starts the kernel behind ``network_isolation()``."""

    def format_kernel_cmd(self, extra_arguments=None):
        return network_isolation() + super().format_kernel_cmd(extra_arguments)


class _CappedClient(NotebookClient):
    """Drops output past ``OUTPUT_LIMIT`` characters per run, except lines with ``keep``."""

    printed = 0
    truncated = False
    keep = None

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        text = content.get("text", "")
        size = len(text) + sum(len(str(v)) for v in content.get("data", {}).values())
        room = OUTPUT_LIMIT - self.printed
        self.printed += size
        if size > room:
            self.truncated = True
            kept = [line for line in text.splitlines() if self.keep and self.keep in line]
            if room <= 0 and not kept:
                return None
            text = text[:max(room, 0)] + "".join(line + "\n" for line in kept)
            msg = {**msg, "content": {**content, "text": text}}
        return super().output(outs, msg, display_id, cell_index)


@dataclass
class Outcome:
    """What became of one piece of code: ``ok``, ``error``, ``timeout``, ``memory`` or ``died``."""

    status: str
    stdout: str = ""
    error: str = ""
    outputs: list = field(default_factory=list)
    truncated: bool = False


class LimitedKernel:
    """A python3 kernel in ``cwd`` whose process tree may use at most ``memory_limit`` bytes.

    ``peak_memory`` is the largest resident size the watchdog saw, over all restarts.
    """

    def __init__(self, cwd, memory_limit):
        self.cwd = str(cwd)
        self.memory_limit = memory_limit
        self.client = None
        self.peak_memory = 0
        self.tasks_capped = False
        self._tasks = None
        self._sockets = None
        self._over_memory = threading.Event()
        self._stop = threading.Event()

    def start(self):
        """Start a fresh kernel (and its memory watchdog)."""
        self.client = _CappedClient(nbformat.v4.new_notebook(), kernel_name="python3",
                                    allow_errors=True, interrupt_on_timeout=False,
                                    kernel_manager_class=_IsolatedKernelManager,
                                    resources={"metadata": {"path": self.cwd}})
        self.client.km = self.client.create_kernel_manager()
        self._sockets = tempfile.mkdtemp(prefix="rnnlab-kernel-")
        self.client.km.transport = "ipc"
        self.client.km.ip = os.path.join(self._sockets, "kernel")
        self.client.start_new_kernel(cwd=self.cwd, env=_kernel_environment(), stderr=subprocess.DEVNULL)
        self._tasks = TaskLimit()
        self._tasks.add(self._kernel_process().pid)
        self.tasks_capped = self._tasks.path is not None
        self.client.start_new_kernel_client()
        self._over_memory.clear()
        self._stop.clear()
        threading.Thread(target=self._watch_memory, args=(self._kernel_process(),), daemon=True).start()

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
        self.client = None

    @property
    def network_blocked(self):
        """Whether the kernel runs without network."""
        return bool(network_isolation())

    def run(self, source, timeout, keep=None):
        """Run ``source`` for at most ``timeout`` seconds; output lines with ``keep`` are never dropped."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, int(timeout))
        self.client.printed, self.client.truncated, self.client.keep = 0, False, keep
        try:
            self.client.execute_cell(cell, 0)
        except CellTimeoutError:
            return Outcome("timeout", _stdout(cell), f"timed out after {self.client.timeout} s")
        except DeadKernelError:
            if self._over_memory.is_set():
                return Outcome("memory", _stdout(cell),
                               f"went over the memory limit of {self.memory_limit // 2**20} MB")
            return Outcome("died", _stdout(cell), "the kernel died (os._exit, a crash, or a signal)")
        except Exception as error:  # nbclient raises others when the kernel vanishes mid-reply
            if self._alive():
                raise
            if self._over_memory.is_set():
                return Outcome("memory", _stdout(cell),
                               f"went over the memory limit of {self.memory_limit // 2**20} MB")
            return Outcome("died", _stdout(cell), f"the kernel stopped answering ({type(error).__name__})")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        outcome = Outcome("ok", _stdout(cell), "", cell.outputs, self.client.truncated)
        if errors:
            outcome.status, outcome.error = "error", f"{errors[0]['ename']}: {errors[0]['evalue']}"
        return outcome

    def _alive(self):
        return run_sync(self.client.km.is_alive)()

    def _kernel_process(self):
        provisioner = getattr(self.client.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return psutil.Process(process.pid)

    def _watch_memory(self, process):
        while not self._stop.wait(WATCHDOG_PERIOD):
            try:
                tree = [process] + process.children(recursive=True)
                used = sum(p.memory_info().rss for p in tree)
            except psutil.Error:
                return
            self.peak_memory = max(self.peak_memory, used)
            if used > self.memory_limit:
                self._over_memory.set()
                for p in tree:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                return


def _kernel_environment():
    """One thread per numerical library: the same results on every machine, and no
    oversubscription when submissions are graded side by side (Gradescope gives half a vCPU)."""
    return {**os.environ, **{name: "1" for name in THREAD_VARIABLES}}


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def wait_until(deadline):
    """Seconds left until ``deadline`` (a ``time.monotonic`` value), never negative."""
    return max(0.0, deadline - time.monotonic())
