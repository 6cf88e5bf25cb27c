"""Start a command (the kernel) in the strongest sandbox the probe found, with every process it
starts counted and none left behind.

``python jail.py [options] -- CMD...`` (a script: it runs in the grader's Python, by path,
wherever the grader is):

1. As started: join the submission's cgroups (``--cgroup``: from here on every process the
   command starts is counted, from birth).  With ``--namespaces``, start stage 2 in new
   namespaces with ``unshare``: PID, so that the command sees its own processes only; mount;
   IPC; network; and a user namespace where the grader is not root.  Without, stay as the
   command's parent and the reaper of every orphan it leaves (a child subreaper), so that a
   daemon that double-forks stays below this process, where the watchdog counts it.
2. ``--inside``, process 1 of the new PID namespace, moves into a root of the command's own
   (``namespaces.make_root``).

Then it starts the command: within ``--tasks`` tasks and files of at most ``--space`` bytes,
as ``--user`` (without capabilities, and unable to gain any), confined by Landlock where it has
no root of its own (``--landlock``: its folder, ``--tmp`` and the system's folders), under the
seccomp filter (``--seccomp``); it reaps the orphans, and when the command ends, or the grader
goes, it kills whatever the command left and exits with the command's status.
"""

import argparse
import ctypes
import os
import signal
import sys
from pathlib import Path

if __name__ == "__main__":  # run by path: reach the package this file belongs to
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from rnnlab_engine.isolation import landlock, namespaces, seccomp, users  # noqa: E402

# What every program needs of the system, read-only.  (Where /bin and /lib are links into
# /usr, the links are made again.)
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                "/sys/devices/system/cpu", "/sys/devices/system/node")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 36, 38, 24
_libc = ctypes.CDLL(None, use_errno=True)


def devices():
    """The devices the command may use: the harmless ones, and any GPU."""
    return [name for name in DEVICES + tuple(n for n in os.listdir("/dev") if n.startswith("nvidia"))
            if os.path.exists("/dev/" + name)]


def confine(options, parent):
    """In the command's process, before it runs: become its user, with its limits, and put on
    the allow-list and the filter.  For good: no set-user-id program, no new user namespace
    gives anything back.  ``parent``: this jail, which the command must not outlive."""
    in_user_namespace = "user" in options.namespaces.split(",")
    users.become(options.user, options.tasks, options.space, in_user_namespace)
    if options.user is None and in_user_namespace:
        namespaces.no_more_namespaces()
        for capability in range(64):
            _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        _libc.capset(header, (ctypes.c_uint32 * 6)())
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    # Should the jail go, so does the command.  Set after the change of user, which clears it;
    # a jail gone before it was set has left this process to another parent: nothing starts.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    if options.landlock:
        landlock.confine(read=[*SYSTEM_PATHS, *options.read, "/proc"],
                         write=[options.folder, options.tmp, *options.write],
                         sockets=options.share, devices=["/dev/" + name for name in devices()])
    if options.seccomp:
        seccomp.install(graders_user=options.user is None and not options.inside)


def run_as_reaper(command, options):
    """Start ``command`` as the user, reap every orphan, and exit with the command's status,
    killing whatever it left (where a PID namespace does not, as its process 1 exits)."""
    own_root = options.inside
    child = None

    def stop(number, frame):
        if own_root:
            if child:
                os.kill(child, number)
        else:  # the grader is going: nothing of the command may stay
            _kill_descendants()
            os._exit(128 + number)

    # Before the fork: a grader gone in between still finds this process ready to clean up.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, stop)
    me = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            os.chdir(options.folder)
            # ipykernel shuts down once its parent is not the one it was told: its parent is
            # this process, which outlives it.
            if "JPY_PARENT_PID" in os.environ:
                os.environ["JPY_PARENT_PID"] = str(me)
            if options.tmp:
                os.environ["TMPDIR"] = options.tmp
            confine(options, me)
            os.execvp(command[0], command)
        except OSError as error:
            print(f"jail: cannot start {command[0]}: {error}", file=sys.stderr, flush=True)
        finally:
            os._exit(127)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == child:
            if not own_root:
                _kill_descendants()
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _kill_descendants():
    """Kill every process below this one and reap it.  As the subreaper, this process
    inherits the orphans of each one killed, until none is left."""
    while True:
        children = _children()
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap()


def _children():
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2:].split()[1] == me:
                found.append(int(pid))
    return found


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jail")
    parser.add_argument("--user", type=int, help="run the command as this user (the grader is root)")
    parser.add_argument("--grader", type=int, help="the grader's process: should it be gone, start nothing")
    parser.add_argument("--cgroup", action="append", default=[], help="a cgroup folder to join")
    parser.add_argument("--namespaces", default="", help="comma-separated: pid (with mount), net, user")
    parser.add_argument("--read", action="append", default=[], help="a path to show read-only")
    parser.add_argument("--share", action="append", default=[], help="a path to show as it is")
    parser.add_argument("--folder", required=True, help="the command's folder (with --scratch, copied into "
                                                        "its private space)")
    parser.add_argument("--space", type=int, default=256 * 2**20, help="bytes the command may write")
    parser.add_argument("--tasks", type=int, default=256, help="tasks (processes and threads) it may run")
    parser.add_argument("--scratch", help="an empty folder where its root is built (with --namespaces)")
    parser.add_argument("--tmp", help="its temporary folder (without --namespaces)")
    parser.add_argument("--write", action="append", default=[], help="another folder it may write (with --landlock)")
    parser.add_argument("--landlock", action="store_true", help="confine it with Landlock")
    parser.add_argument("--seccomp", action="store_true", help="filter its syscalls")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if options.inside:
        namespaces.make_root(options.scratch, [*SYSTEM_PATHS, *options.read], devices(), options.share,
                             options.folder, options.space, options.user)
        run_as_reaper(command, options)
    for path in options.cgroup:
        Path(path, "cgroup.procs").write_text("0")
    # Should the grader go, this process goes, and the command with it (``unshare --kill-child``
    # takes the namespace; without one, the handler of SIGTERM kills what it left).  A grader
    # that died before this was set has left this process to another parent: nothing starts.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL if options.namespaces else signal.SIGTERM, 0, 0, 0)
    if options.grader is not None and os.getppid() != options.grader:
        os._exit(1)
    if "pid" not in options.namespaces.split(","):
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        run_as_reaper(command, options)
    unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--ipc"]
    unshare += ["--net"] * ("net" in options.namespaces) + ["--user", "--map-root-user"] * ("user" in options.namespaces)
    inner = list(argv if argv is not None else sys.argv[1:])
    os.execvp(unshare[0], unshare + ["--", sys.executable, os.path.abspath(__file__), "--inside"] + inner)


if __name__ == "__main__":
    sys.exit(main())
