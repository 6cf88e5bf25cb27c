"""The kernel's user: one of its own per kernel where the grader is root, whose processes are
capped without cgroups, and of which nothing survives its kernel: no process, no file.

Two kernels alive at once never share a user, across rnnlab processes too: a user is held by
a lock in a folder of root's until nothing of its last kernel is left; a user that runs a
process, or that is an account of the system's, is never taken.  ``RLIMIT_NPROC``, set
before the change of user, caps the tasks (processes and threads) of that user, orphans and
daemons included, and where no PID namespace or cgroup holds them, they are found by their user
and killed.
"""

import fcntl
import functools
import math
import os
import pwd
import random
import resource
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

KERNEL_USERS = range(64000, 65000)
USER_LOCKS = Path("/run/rnnlab-kernel-users")
# The places any user may write on a usual Linux system: where a kernel's user that no
# Landlock confines may leave files.  (Sticky, world-writable folders below them are searched
# too.)
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
# How long killing a user's processes may take before the grader gives up on that user.
KILL_WAIT = 30
# What an entry takes on disk at the least (an empty file takes an inode and a block's worth).
BLOCK = 4096
# Folders deeper than this in what a kernel writes are not counted, and count as too much.
MAX_DEPTH = 64
# Where a kernel runs as the grader's own user, the tasks of that user (the grader's, the other
# kernels') cap it, as many as this many kernels may start side by side; the watchdog holds
# each kernel to its own.
SIDE_BY_SIDE = 8


def become(user, tasks, file_size, own_user_namespace=False):
    """In the jail, before the kernel starts: at most ``tasks`` tasks of the user it runs as,
    no file larger than ``file_size`` bytes, and then run as ``user`` (None: stay who we are).

    ``RLIMIT_NPROC`` counts a user's tasks across the machine, in its user namespace (Linux 5.14
    or later): set before the change to a user of the kernel's own, or in a user namespace of
    its own, it counts the kernel's alone; where the kernel runs as the grader's user, the
    grader's other processes count too, and the cap leaves room for ``SIDE_BY_SIDE`` kernels
    (the watchdog holds each to ``tasks``)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    if user is None and not own_user_namespace:
        tasks = sum(1 for _ in _tasks_of(os.getuid())) + tasks * SIDE_BY_SIDE
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    tasks = tasks if hard == resource.RLIM_INFINITY else min(tasks, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
    if user is not None:
        os.setgroups([])
        os.setgid(user)
        os.setuid(user)


def _tasks_of(uid):
    """The ids of the tasks (threads included) whose real user is ``uid``."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        real = next((line.split()[1] for line in status.splitlines() if line.startswith("Uid:")), None)
        if real == str(uid):
            yield from tids


def claim_kernel_user(locks=USER_LOCKS, users=KERNEL_USERS):
    """``(uid, lock)``: a user of ``users`` that no other kernel on this machine holds, that
    no process runs as and that is nobody's account, and the open file whose lock holds it
    until it is closed."""
    import psutil

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
        if uid in running or _has_account(uid):
            continue
        lock = os.fdopen(os.open(locks / str(uid), os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600), "r+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except BlockingIOError:
            lock.close()
    raise RuntimeError(f"all {len(users)} kernel users are in use")


def _has_account(uid):
    """Whether ``uid`` is a user of this system's (Debian gives some in 60000-64999 to
    services): never one a kernel may run as, kill the processes of, or remove the files of."""
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


@functools.cache
def _private_locks():
    return Path(tempfile.mkdtemp(prefix="rnnlab-kernel-users-"))


def kill_processes_of(uid, wait=KILL_WAIT):
    """Kill every process of user ``uid`` (not root) and return True once none is left but
    zombies; False if some is still there after ``wait`` seconds.  Round after round: a killed
    process forks no more, so what the processes of one round forked dies in the next."""
    if uid == 0:
        raise ValueError("never kill every process of root")
    deadline = time.monotonic() + wait
    while alive := _alive_processes_of(uid):
        if time.monotonic() > deadline:
            return False
        for process in alive:
            try:
                process.kill()
            except Exception:  # psutil's: gone since it was listed
                pass
        time.sleep(0.01)
    return True


def _alive_processes_of(uid):
    """The processes of ``uid`` that are not zombies (a zombie holds nothing but its number)."""
    import psutil

    found = []
    for process in psutil.process_iter(["uids", "status"]):
        if process.info["uids"] and process.info["uids"].real == uid and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def files_of(uid, places=SHARED_WRITABLE):
    """The top-most files and folders owned by ``uid`` in ``places`` and in the sticky,
    world-writable folders below them (the only folders of others a user may write in)."""
    found = []
    for place in places:
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                found.append(entry.path)
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o1002 == 0o1002:
                found += files_of(uid, [entry.path])
    return found


def remove_files_of(uid, places=SHARED_WRITABLE):
    """Delete what user ``uid`` left in ``places`` (see ``files_of``)."""
    for path in files_of(uid, places):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                remove_tree(path)
            else:
                os.unlink(path)
        except OSError:
            pass


def bytes_used(paths, stop_above=math.inf):
    """The bytes of disk that the files and folders ``paths`` take, all they hold included: the
    blocks allocated, and at least one block an entry (empty files take inodes).  The count
    stops once it is above ``stop_above``: a folder of a million files costs no more than the
    limit's worth.  What cannot be counted (a folder its owner closed, one deeper than
    ``MAX_DEPTH``) counts as above it."""
    total = 0
    for path in paths:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError:
            return stop_above + 1
        total += max(info.st_blocks * 512, BLOCK)
        if stat.S_ISDIR(info.st_mode) and total <= stop_above:
            total += _folder_bytes(path, stop_above - total)
        if total > stop_above:
            break
    return total


def _folder_bytes(path, budget):
    """What the folder ``path`` holds, as ``bytes_used`` counts it: walked by descriptors, so
    that no path grows too long, and without recursion, so that no depth overflows a stack."""
    total, opened = 0, []
    try:
        opened.append(os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW))
        waiting = [iter(os.scandir(opened[-1]))]
        while waiting:
            entry = next(waiting[-1], None)
            if entry is None:
                waiting.pop()
                os.close(opened.pop())
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # gone since it was listed
                continue
            total += max(info.st_blocks * 512, BLOCK)
            if total > budget:
                return total
            if stat.S_ISDIR(info.st_mode):
                if len(waiting) >= MAX_DEPTH:
                    return budget + 1
                opened.append(os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=opened[-1]))
                waiting.append(iter(os.scandir(opened[-1])))
        return total
    except FileNotFoundError:
        return total
    except OSError:
        return budget + 1
    finally:
        for descriptor in opened:
            os.close(descriptor)


def remove_tree(path):
    """Remove the folder ``path`` and everything in it, whatever the kernel made of it: folders
    of no permission (where the kernel is the grader's user) and trees too deep for
    ``shutil.rmtree``."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except (OSError, RecursionError):
        for command in (["chmod", "-R", "u+rwx", "--", path], ["rm", "-rf", "--", path]):
            subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def give_tree(path, user):
    """Make the folder ``path`` and everything in it ``user``'s (None: leave it), readable by
    no one else."""
    if user is None:
        return
    os.chown(path, user, user, follow_symlinks=False)
    os.chmod(path, 0o700)
    for folder, names, files, descriptor in os.fwalk(path, follow_symlinks=False):
        for name in names + files:
            os.chown(name, user, user, dir_fd=descriptor, follow_symlinks=False)
