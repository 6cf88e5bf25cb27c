"""Start a command that sees only what it needs of the machine, with every process it starts
counted and none left behind.

``python jail.py [options] -- CMD...`` runs in two stages (it imports only the standard
library, so it runs as a script wherever the grader is):

1. As started: join the submission's cgroups (``--cgroup``, written as pid 0: from here on
   every process the command starts is counted, from birth), then start stage 2 in new
   namespaces with ``unshare`` (``--namespaces``): PID, so that the command sees its own
   processes only and an orphan is re-parented to stage 2 rather than to the machine's init;
   mount; network; and a user namespace where the grader is not root.  Without namespaces,
   drop to ``--user`` and run the command here.
2. ``--inside``, process 1 of the new PID namespace, builds a root of its own and moves into
   it (``pivot_root``): the system's ``/usr``, ``/etc`` and the library folders, the paths
   of ``--read`` (the Python installation) read-only; a ``/proc`` of the namespace's own;
   a ``/dev`` of a few devices; the paths of ``--share`` (the grader's sockets) at their own
   place; and one tmpfs of ``--space`` bytes behind every place where the command may write:
   ``/tmp``, ``/var/tmp``, ``/run/lock``, ``/dev/shm`` and ``--folder``, a copy of the
   submission's folder.  Nothing else of the machine (the grader's checkout, its ``.git``,
   home, zips, other submissions, the output) is there to find.  It then starts the command
   as ``--user`` (without capabilities, and unable to gain any), waits for it, reaps the
   orphans, and exits with it, which kills whatever is left in the namespace.
"""

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

# What every program needs of the system, read-only.  (Where /bin and /lib are links into
# /usr, the links are made again.)
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                "/sys/devices/system/cpu", "/sys/devices/system/node")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
DEVICE_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                "stderr": "/proc/self/fd/2"}
# Where the command may write, all in the one private tmpfs.
WRITABLE = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
ST_NOATIME, ST_NODIRATIME, ST_RELATIME, MS_RELATIME = 1024, 2048, 4096, 1 << 21
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24
_libc = ctypes.CDLL(None, use_errno=True)


def mount(source, target, kind=None, flags=0, options=None):
    """mount(2); an ``OSError`` names the target."""
    if _libc.mount(_bytes(source), _bytes(target), _bytes(kind), ctypes.c_ulong(flags), _bytes(options)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mounting {target}: {os.strerror(error)}")


def _bytes(text):
    return None if text is None else os.fsencode(text)


def bind_read_only(path, root):
    """Show ``path`` at the same place under ``root``, read-only (a link as the same link)."""
    target = root + path
    if os.path.islink(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).touch()
    mount(path, target, flags=MS_BIND | MS_REC)
    host = os.statvfs(path).f_flag  # a user namespace may not drop the host's flags
    kept = (host & (MS_NOEXEC | ST_NOATIME | ST_NODIRATIME)) | (MS_RELATIME if host & ST_RELATIME else 0)
    mount(None, target, flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


def build_root(root, options):
    """Fill the empty tmpfs at ``root`` with what the command may see (stage 2).  The writable
    places come first: a path to show that lies below one (a Python in /tmp) is shown on top."""
    os.makedirs(root + "/dev")
    mount("rnnlab-dev", root + "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for name in DEVICES + tuple(n for n in os.listdir("/dev") if n.startswith("nvidia")):
        if os.path.exists("/dev/" + name):
            Path(root + "/dev/" + name).touch()
            mount("/dev/" + name, root + "/dev/" + name, flags=MS_BIND)
    for name, target in DEVICE_LINKS.items():
        os.symlink(target, root + "/dev/" + name)
    # One tmpfs behind every writable place: a single bound on what the command may write.
    space = root + "/.space"
    os.makedirs(space)
    mount("rnnlab-space", space, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={options.space}")
    for number, place in enumerate(WRITABLE):
        inside = f"{space}/{number}"
        os.mkdir(inside)
        os.chmod(inside, 0o1777)
        os.makedirs(root + place, exist_ok=True)
        mount(inside, root + place, flags=MS_BIND)
    shown = []
    for path in [*SYSTEM_PATHS, *options.read]:
        path = os.path.normpath(path)
        if os.path.lexists(path) and not any(path == p or path.startswith(p + "/") for p in shown):
            bind_read_only(path, root)
            shown.append(path)
    os.makedirs(root + "/proc")
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if options.folder:
        folder = space + "/folder"
        shutil.copytree(options.folder, folder, symlinks=True)
        give_tree(folder, options.user)
        os.makedirs(root + options.folder, exist_ok=True)
        mount(folder, root + options.folder, flags=MS_BIND)
    for path in options.share:
        os.makedirs(root + path, exist_ok=True)
        mount(path, root + path, flags=MS_BIND)
    _libc.umount2(_bytes(space), MNT_DETACH)  # the binds keep it; its own path is gone
    os.rmdir(space)


def enter_root(root):
    """Make ``root`` the root of this mount namespace, with nothing of the old one left."""
    os.chdir(root)
    os.mkdir(".old")
    subprocess.run(["pivot_root", ".", ".old"], check=True)
    os.chdir("/")
    if _libc.umount2(b"/.old", MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "detaching the old root")
    os.rmdir("/.old")
    mount(None, "/", flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges(user, own_user_namespace):
    """Become ``user`` (as root), or give up every capability (as root of a user namespace of
    ours), for good: no set-user-id program, no new user namespace gives them back."""
    if user is not None:
        os.setgroups([])
        os.setgid(user)
        os.setuid(user)
    elif own_user_namespace:
        # A new user namespace would give its creator every capability in it again.
        for limit in ("max_user_namespaces", "max_mnt_namespaces"):
            try:
                Path(f"/proc/sys/user/{limit}").write_text("0")
            except OSError:
                pass
        for capability in range(64):
            _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        _libc.capset(header, (ctypes.c_uint32 * 6)())
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


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


def run_as_init(command, options):
    """Start ``command`` as the user, reap every orphan, and exit with the command's status."""
    child = os.fork()
    if child == 0:
        try:
            if options.folder:
                os.chdir(options.folder)
            # ipykernel shuts down when its parent becomes pid 1, as an orphan's does, unless it
            # is told that its parent is pid 1: here it is this init, which outlives it.
            if "JPY_PARENT_PID" in os.environ:
                os.environ["JPY_PARENT_PID"] = "1"
            drop_privileges(options.user, "user" in options.namespaces.split(","))
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda number, frame: os.kill(child, number))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == child:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def join_cgroups(paths):
    for path in paths:
        Path(path, "cgroup.procs").write_text("0")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jail")
    parser.add_argument("--user", type=int, help="run the command as this user (the grader is root)")
    parser.add_argument("--grader", type=int, help="the grader's process: should it be gone, start nothing")
    parser.add_argument("--cgroup", action="append", default=[], help="a cgroup folder to join")
    parser.add_argument("--namespaces", default="", help="comma-separated: pid (with mount), net, user")
    parser.add_argument("--read", action="append", default=[], help="a path to show read-only")
    parser.add_argument("--share", action="append", default=[], help="a path to show as it is")
    parser.add_argument("--folder", help="the command's folder, copied into its private space")
    parser.add_argument("--space", type=int, help="bytes the command may write (with --folder)")
    parser.add_argument("--scratch", help="an empty folder where the new root is built")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    namespaces = [n for n in options.namespaces.split(",") if n]
    if options.inside:
        mount(None, "/", flags=MS_REC | MS_PRIVATE)
        mount("rnnlab-root", options.scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        build_root(options.scratch, options)
        enter_root(options.scratch)
        run_as_init(command, options)
    join_cgroups(options.cgroup)
    if "pid" not in namespaces:
        drop_privileges(options.user, False)
    # Should the grader die, so does the command (``unshare --kill-child`` takes the namespace).
    # Set after the change of user, which clears it; a grader that died before it was set has
    # left this process to another parent, and nothing is started.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if options.grader is not None and os.getppid() != options.grader:
        os._exit(1)
    if "pid" not in namespaces:
        os.execvp(command[0], command)
    unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount"]
    unshare += ["--net"] * ("net" in namespaces) + ["--user", "--map-root-user"] * ("user" in namespaces)
    inner = list(argv if argv is not None else sys.argv[1:])
    os.execvp(unshare[0], unshare + ["--", sys.executable, os.path.abspath(__file__), "--inside"] + inner)


if __name__ == "__main__":
    sys.exit(main())
