"""A syscall filter for the kernel and everything it starts: seccomp (with no_new_privs, which
needs no privilege; a container's own profile allows it).

The kernel connects to nothing (the checks connect to it): ``connect`` is refused, and so is
every socket but a Unix stream one, which closes the network without a network namespace and
keeps the kernel from any other process's socket (a session bus, an agent, another kernel).
It also refuses what a notebook's kernel never needs and an attacker would: new namespaces,
mounts, tracing or reading other processes' memory, the kernel keyring, BPF, performance
counters, io_uring (whose operations seccomp cannot see), memory that no process maps
(``memfd_create``, System V shared memory), module loading and the like.  Where the kernel
runs as the grader's own user, a change of a file's mode, owner, times or extended attributes
succeeds and changes nothing (Landlock keeps the kernel from opening the grader's files, not
from those; and refusing them would break ``shutil.copy``, which IPython uses as it starts).

A refused call fails with ``EPERM``, as any permission error would: the student's code gets an
ordinary ``OSError``.  A socket fails with ``EOPNOTSUPP``, the one error libzmq (in every
Jupyter kernel) takes for "no such network" rather than aborting on it; ``clone3`` with
``ENOSYS``, so that the C library falls back to ``clone``, whose flags the filter can read.

Built on libseccomp (the library of Docker, systemd and podman), through ``pyseccomp``, its
pure-Python binding: libseccomp knows each architecture's syscall numbers and kills calls made
through another architecture's table (i386 or x32 on x86_64), which a hand-written filter
must get right by itself.  A call the filter must refuse and this libseccomp does not know
makes ``install`` fail: the probe then finds no filter.
"""

import errno
import socket

try:
    import pyseccomp
except (ImportError, RuntimeError):  # no binding, or no libseccomp on this system
    pyseccomp = None

# Calls no kernel needs, refused with EPERM.  (Those this architecture lacks are skipped.)
REFUSED = (
    # namespaces, mounts and roots
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    # other processes: tracing, their memory, their files and their sockets
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "connect",
    # memory that no process of the kernel's maps, or that outlives it
    "memfd_create", "shmget", "shmat", "semget", "msgget",
    # what a container keeps from its processes
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at", "lookup_dcookie", "quotactl",
    "quotactl_fd", "acct", "syslog", "vhangup",
    # the machine's
    "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "swapon",
    "swapoff", "settimeofday", "clock_settime", "sethostname", "setdomainname",
    "iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
)
# Where the kernel runs as the grader's own user: what would change the grader's files.
IGNORED_FOR_THE_GRADERS_USER = (
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime", "utimes",
    "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr", "setxattrat", "removexattr", "lremovexattr",
    "fremovexattr", "removexattrat",
)
# Without these the filter holds nothing: a libseccomp that cannot name them makes no filter.
ESSENTIAL = ("connect", "socket", "socketpair", "clone3", "io_uring_setup", "memfd_create", "ptrace")
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
SOCKET_TYPE_MASK = 0xF
OTHER_UNIX_SOCKETS = (socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_RDM, socket.SOCK_SEQPACKET)
TERMINAL_INJECTION = (0x5412, 0x541C)  # TIOCSTI, TIOCLINUX: typing into the grader's terminal


def available():
    """Whether a filter can be made here (libseccomp and its binding are installed)."""
    return pyseccomp is not None


def install(graders_user=False):
    """Filter every syscall of this process and of every process it starts from now on
    (``graders_user``: this process runs as the grader's own user).  Sets no_new_privs (which
    the filter needs without CAP_SYS_ADMIN)."""
    allowed = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    refuse, no_socket = pyseccomp.ERRNO(errno.EPERM), pyseccomp.ERRNO(errno.EOPNOTSUPP)
    for name in REFUSED:
        _add(allowed, refuse, name)
    for name in IGNORED_FOR_THE_GRADERS_USER * graders_user:
        _add(allowed, pyseccomp.ERRNO(0), name)  # not run, and reported done
    for name in ("socket", "socketpair"):
        _add(allowed, no_socket, name, pyseccomp.Arg(0, pyseccomp.NE, socket.AF_UNIX))
    for kind in OTHER_UNIX_SOCKETS:  # a datagram reaches any socket it names, unconnected
        _add(allowed, no_socket, "socket", pyseccomp.Arg(0, pyseccomp.EQ, socket.AF_UNIX),
             pyseccomp.Arg(1, pyseccomp.MASKED_EQ, SOCKET_TYPE_MASK, kind))
    for flag in NAMESPACE_FLAGS:
        _add(allowed, refuse, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    _add(allowed, pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    for request in TERMINAL_INJECTION:
        _add(allowed, refuse, "ioctl", pyseccomp.Arg(1, pyseccomp.MASKED_EQ, 0xFFFFFFFF, request))
    allowed.load()


def _add(syscall_filter, action, name, *arguments):
    try:
        syscall_filter.add_rule(action, name, *arguments)
    except (OSError, ValueError, RuntimeError):  # a call this architecture, or libseccomp, does not know
        if name in ESSENTIAL:
            raise
