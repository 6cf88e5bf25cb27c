"""What isolation this machine allows, layer by layer, found once per grader by starting Python
through the jail in each configuration, strongest first.

- **The files the kernel sees**: a root of its own (namespaces), else a Landlock allow-list,
  else the file permissions alone, with a user of its own, and then only where nothing the
  grader must keep from students is readable by other users (``exposed``).
- **System calls and the network**: a network namespace and the seccomp filter, or the filter
  alone.
- **Processes**: a PID namespace, or ``RLIMIT_NPROC`` with the jail as the reaper of every
  orphan; a cgroup where one may be made (``cgroups``).
- **User**: a user of its own per kernel where the grader is root.  Student code never runs as
  root: where the grader is root and no user of its own can start Python, nothing is graded.
  Where it runs as the grader's user, only a user namespace, or Landlock's scopes (ABI 6),
  keep it from signalling the grader: without either, nothing is graded.

``IsolationError`` says, in one line, what this machine lacks and how to fix it.
"""

import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import landlock, seccomp
from .users import claim_kernel_user, kill_processes_of

JAIL = Path(__file__).with_name("jail.py")
# The Landlock ABI that keeps a sandbox from signalling processes outside it: what a kernel
# running as the grader's own user needs (Linux 6.12).
SCOPES_ABI = 6


class IsolationError(Exception):
    """This machine cannot keep student code in its place; the message says what to change."""


@dataclass(frozen=True)
class Sandbox:
    """How kernels are started on this machine: what the OS allowed of each layer.

    ``namespaces``: those the jail makes, of "pid" (with a mount namespace and a root of the
    kernel's own), "net" and "user" (where the grader is not root); ``separate_user``: the
    kernel runs as a user of its own (the grader is root); ``landlock``: the Landlock ABI of
    the allow-list, where there is no root of its own (0: none); ``seccomp``: the syscall
    filter holds.
    """

    namespaces: tuple = ()
    separate_user: bool = False
    landlock: int = 0
    seccomp: bool = False

    @property
    def own_root(self):
        """Whether kernels run in a root of their own, in a PID namespace of their own (no
        other process in view; their private space a tmpfs)."""
        return "pid" in self.namespaces

    @property
    def allow_listed(self):
        """Whether kernels see only their folder, the Python installation and the system's
        libraries (a root of their own, or Landlock)."""
        return self.own_root or self.landlock > 0

    @property
    def network_blocked(self):
        """What keeps kernels off the network ("" where nothing does)."""
        return " and ".join(["a network namespace"] * ("net" in self.namespaces) + ["seccomp"] * self.seccomp)

    def command(self, uid, folder, read, share, scratch, tmp, cgroups=(), space=None, tasks=None, write=()):
        """The prefix that starts a kernel command in this sandbox, in ``folder``, seeing
        ``read`` read-only and ``share`` as they are; ``scratch``: an empty folder for its root;
        ``tmp``: its temporary folder, and ``write`` other folders of its own, where it has no
        root of its own; ``space`` bytes it may write; ``tasks`` it may run."""
        jail = [sys.executable, str(JAIL), f"--grader={os.getpid()}", f"--namespaces={','.join(self.namespaces)}",
                f"--folder={folder}"] + [f"--cgroup={c}" for c in cgroups]
        jail += [f"--read={os.path.realpath(r)}" for r in read] + [f"--share={s}" for s in share]
        jail += [f"--space={space}"] * (space is not None) + [f"--tasks={tasks}"] * (tasks is not None)
        if self.separate_user:
            jail.append(f"--user={uid}")
        if self.own_root:
            jail.append(f"--scratch={scratch}")
        else:
            jail += [f"--tmp={tmp}"] + [f"--write={w}" for w in write]
            if self.landlock:
                jail.append("--landlock")
        if self.seccomp:
            jail.append("--seccomp")
        return jail + ["--"]


def python_paths():
    """What a kernel needs to reach to run this Python: its installation and packages."""
    import site

    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(site.getsitepackages())
    return sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))


def sandbox():
    """The strongest ``Sandbox`` this machine allows (probed once); ``IsolationError`` where
    it allows none that keeps student code in its place."""
    found, problem = _probe()
    if found is None:
        raise IsolationError(problem)
    return found


@functools.cache
def _probe():
    root = os.geteuid() == 0
    user = () if root else ("user",)
    filters = [True, False] if seccomp.available() else [False]
    abi = landlock.abi()
    candidates = [Sandbox(namespaces + user, root, 0, s) for namespaces in (("pid", "net"), ("pid",)) for s in filters]
    candidates += [Sandbox((), root, a, s) for a in dict.fromkeys([abi, 0]) for s in filters]
    failure = ""
    for candidate in candidates:
        if not candidate.network_blocked:
            continue
        if not candidate.separate_user and not candidate.own_root and candidate.landlock < SCOPES_ABI:
            continue  # student code would run as the grader, and read or signal what it may
        failure = _starts_python(candidate)
        if not failure:
            return candidate, ""
    if not seccomp.available():
        return None, ("this machine allows no network namespace, and without libseccomp (apt install libseccomp2) "
                      "and the pyseccomp package nothing keeps student code off the network")
    if root:
        return None, (f"no user of the kernel's own can start Python here ({failure}): make {sys.prefix} "
                      f"and {os.path.realpath(sys.base_prefix)} reachable by other users (Gradescope's "
                      "run_autograder does chmod 711 /root), or grade where namespaces are allowed")
    if not abi:
        return None, ("student code would run as you and read everything you may (the tests, the reference "
                      "solutions, other submissions): this machine allows neither user namespaces "
                      "(sysctl kernel.unprivileged_userns_clone=1) nor Landlock (Linux 5.13 or later, with "
                      "landlock in its lsm= list); grade on such a machine, or as root")
    if abi < SCOPES_ABI:
        return None, (f"student code would run as you, and this machine's Landlock (ABI {abi}) cannot keep it "
                      f"from signalling your processes (the grader among them): that takes ABI {SCOPES_ABI} "
                      "(Linux 6.12 or later) or user namespaces (sysctl kernel.unprivileged_userns_clone=1); "
                      "grade on such a machine, or as root")
    return None, f"no sandbox this machine allows can start Python ({failure})"


def _starts_python(candidate):
    """"" where the kernel's Python starts in ``candidate``; else what went wrong."""
    probe = Path(tempfile.mkdtemp(prefix="rnnlab-probe-"))
    uid, lock = claim_kernel_user() if candidate.separate_user else (None, None)
    try:
        os.chmod(probe, 0o711)
        for name in ("folder", "root", "tmp"):
            (probe / name).mkdir()
            if uid is not None:
                os.chown(probe / name, uid, uid)
        command = candidate.command(uid, str(probe / "folder"), python_paths(), [], str(probe / "root"),
                                    str(probe / "tmp"), space=64 * 2**20, tasks=64)
        run = subprocess.run(command + [sys.executable, "-c", "import numpy, ipykernel"], capture_output=True,
                             text=True, timeout=60, cwd=probe / "folder")
        return "" if run.returncode == 0 else (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    finally:
        shutil.rmtree(probe, ignore_errors=True)
        if uid is not None:
            kill_processes_of(uid)
            lock.close()


def exposed(paths):
    """Those of ``paths`` through which a user with no rights of its own could read something:
    with every folder on the way searchable by others, the path readable by them (a file's
    content, a folder's names), or anything so readable below it through folders they may
    search (ACLs aside)."""
    found = []
    for path in map(Path, paths):
        path = path.resolve()
        try:
            reachable = all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
        except OSError:
            continue
        if reachable and _readable_below(path):
            found.append(str(path))
    return found


def _readable_below(path):
    waiting = [path]
    while waiting:
        here = waiting.pop()
        try:
            mode = here.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            if mode & stat.S_IROTH:
                return True
            if stat.S_ISDIR(mode) and mode & stat.S_IXOTH:
                waiting += list(here.iterdir())
        except OSError:
            continue
    return False


def refuse_exposed(sandbox, paths):
    """Raise ``IsolationError`` where ``sandbox`` keeps kernels to the file permissions alone
    and some of ``paths`` (``{path: what it holds}``) is readable by them."""
    if sandbox.allow_listed:
        return
    readable = [f"{path} ({what})" for path, what in paths.items() if exposed([path])]
    if readable:
        raise IsolationError(
            "this machine gives the kernel neither namespaces nor Landlock, and its user could read "
            + ", ".join(readable) + ": make them unreadable to other users (chmod -R o-rwx), or grade "
            "where namespaces or Landlock (Linux 5.13 or later) are allowed")
