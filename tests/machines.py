"""The machines rnnlab grades on, made on this one (which must be root): a command run as it
would run there.

- ``root``: as this machine is (root with namespaces, cgroups writable);
- ``container``: root with Docker's default capabilities only (no CAP_SYS_ADMIN), the cgroup
  tree read-only, and a syscall filter that refuses what Docker's default seccomp profile
  refuses to such a container (new namespaces, mounts, the keyring, BPF);
- ``user``: a normal user (uid ``USER``), where user namespaces are allowed;
- ``user in a container``: a normal user in such a container (no user namespaces either).

``old_kernel=True`` refuses Landlock's calls too, as a kernel before 5.13 (or an older Docker
profile) does.  Each runs in a mount namespace of its own, made here before anything is
dropped, in which the Python installation is reachable by other users where it lies under a
private home (as Gradescope's ``run_autograder`` makes ``/root`` searchable).

``python machines.py [--old-kernel] MACHINE -- COMMAND...`` (as root) runs COMMAND there; the
tests and the hostile-batch benchmark call ``command``.
"""

import argparse
import ctypes
import errno
import os
import stat
import sys
from pathlib import Path

MACHINES = ("root", "container", "user", "user in a container")
USER = 4321
# Docker's default capabilities: chown, dac_override, fowner, fsetid, kill, setgid, setuid,
# setpcap, net_bind_service, net_raw, sys_chroot, mknod, audit_write, setfcap.
DOCKER_CAPABILITIES = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31}
# What Docker's default profile refuses a container without CAP_SYS_ADMIN (among the rest).
DOCKER_REFUSES = ("unshare", "setns", "mount", "umount2", "pivot_root", "keyctl", "add_key", "request_key", "bpf",
                  "fsopen", "fsmount", "open_tree", "move_mount", "perf_event_open", "userfaultfd")
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
LANDLOCK_CALLS = ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self")
PR_CAPBSET_DROP = 24
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
MNT_DETACH = 2
MS_REC, MS_PRIVATE = 16384, 1 << 18
CLONE_NEWNS = 0x00020000
_libc = ctypes.CDLL(None, use_errno=True)


def command(machine, argv, old_kernel=False):
    """``argv`` run on ``machine`` (one of ``MACHINES``)."""
    assert machine in MACHINES, machine
    return [sys.executable, __file__, *["--old-kernel"] * old_kernel, machine, "--", *argv]


def user_folder(path):
    """Make the folder ``path`` (and what it holds) the normal user's, reachable by it."""
    for folder in [Path(path), *Path(path).parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
    for item in [Path(path), *Path(path).rglob("*")]:
        os.chown(item, USER, USER, follow_symlinks=False)


def _mount(source, target, kind=None, flags=0):
    if _libc.mount(source and os.fsencode(source), os.fsencode(target), kind and os.fsencode(kind),
                   ctypes.c_ulong(flags), None) != 0:
        raise OSError(ctypes.get_errno(), f"mounting {target}")


def _python_reachable():
    """Show the Python installation to other users where it lies under a private folder
    (``/root``): that folder becomes a searchable tmpfs holding the installation alone."""
    for python in {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}:
        private = next((p for p in reversed(Path(python).parents) if not p.stat().st_mode & stat.S_IXOTH), None)
        if private is None:
            continue
        shown = private / Path(python).relative_to(private).parts[0]
        keep = Path("/tmp") / f".machines-{os.getpid()}-{shown.name}"
        keep.mkdir(exist_ok=True)
        _mount(str(shown), str(keep), flags=MS_BIND)
        _mount("machines", str(private), "tmpfs")
        private.chmod(0o711)
        shown.mkdir()
        _mount(str(keep), str(shown), flags=MS_BIND)
        _libc.umount2(os.fsencode(str(keep)), MNT_DETACH)
        keep.rmdir()


def _cgroups_read_only():
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[fields.index("-") + 1] in ("cgroup", "cgroup2"):
            _mount(None, fields[4], flags=MS_REMOUNT | MS_BIND | MS_RDONLY)


def _docker_filter(old_kernel):
    import pyseccomp

    refused = pyseccomp.ERRNO(errno.EPERM)
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    rules.set_attr(pyseccomp.Attr.CTL_NNP, 0)  # as Docker loads it: no_new_privs stays off
    for name in DOCKER_REFUSES:
        rules.add_rule(refused, name)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(refused, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    for name in LANDLOCK_CALLS * old_kernel:
        rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), name)
    rules.load()


def main():
    parser = argparse.ArgumentParser(prog="machines")
    parser.add_argument("machine", choices=MACHINES)
    parser.add_argument("--old-kernel", action="store_true")
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    argv = options.argv[1:] if options.argv[:1] == ["--"] else options.argv
    container = "container" in options.machine
    # A mount namespace of its own first: nothing below may change this machine's mounts.
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "making a mount namespace")
    _mount(None, "/", flags=MS_REC | MS_PRIVATE)
    _python_reachable()
    if container:
        _cgroups_read_only()
    if container or options.old_kernel:
        _docker_filter(options.old_kernel)
    if options.machine.startswith("user"):
        os.setgroups([])
        os.setgid(USER)
        os.setuid(USER)
    elif container:
        for capability in range(64):
            if capability not in DOCKER_CAPABILITIES:
                _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
