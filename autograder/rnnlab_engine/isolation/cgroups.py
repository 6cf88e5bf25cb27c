"""Every process of a kernel counted from birth, where the machine lets the grader make control
groups: a cgroup (v2 where this user may make one with the memory and pids controllers, else
v1's memory and pids hierarchies) that the jail joins before it starts anything, with the
memory limit (what the kernel writes into its private tmpfs included) and a cap on tasks.
Where the cgroup tree is read-only (a container), there is none: ``RLIMIT_NPROC`` caps the
tasks and the watchdog holds the memory limit.
"""

import functools
import itertools
import os
import time
from pathlib import Path

import psutil

# Tasks (processes and threads) a kernel may have: a kernel with torch loaded uses ~20.
TASK_LIMIT = 256


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

