"""A Jupyter kernel that runs untrusted code under a time and a memory limit.

Student code runs in the kernel process only.  Each piece of code gets a timeout; a
watchdog thread sums the resident memory of the kernel and its children and kills the
kernel when it goes over the limit.  Whatever happens (timeout, crash, ``os._exit``,
memory), ``run`` returns an ``Outcome`` instead of raising.
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

import nbformat
import psutil
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

WATCHDOG_PERIOD = 0.05
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]


@dataclass
class Outcome:
    """What became of one piece of code: ``ok``, ``error``, ``timeout``, ``memory`` or ``died``."""

    status: str
    stdout: str = ""
    error: str = ""
    outputs: list = field(default_factory=list)


class LimitedKernel:
    """A python3 kernel in ``cwd`` whose process tree may use at most ``memory_limit`` bytes.

    ``peak_memory`` is the largest resident size the watchdog saw, over all restarts.
    """

    def __init__(self, cwd, memory_limit):
        self.cwd = str(cwd)
        self.memory_limit = memory_limit
        self.client = None
        self.peak_memory = 0
        self._over_memory = threading.Event()
        self._stop = threading.Event()

    def start(self):
        """Start a fresh kernel (and its memory watchdog)."""
        self.client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3",
                                     allow_errors=True, interrupt_on_timeout=False,
                                     resources={"metadata": {"path": self.cwd}})
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(cwd=self.cwd, env=_kernel_environment(), stderr=subprocess.DEVNULL)
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
        self.client = None

    def run(self, source, timeout):
        """Run ``source`` in the kernel for at most ``timeout`` seconds."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, int(timeout))
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
        if errors:
            return Outcome("error", _stdout(cell), f"{errors[0]['ename']}: {errors[0]['evalue']}", cell.outputs)
        return Outcome("ok", _stdout(cell), "", cell.outputs)

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
