"""A file allow-list without namespaces: Landlock (Linux 5.13 and later; no privilege needed).

Where the kernel cannot have a root of its own (a container without CAP_SYS_ADMIN, a normal
user without user namespaces), the jail confines it, and every process it starts, to an
allow-list of the machine before it runs: read and run only the system's folders, the
Python installation and ``/proc``; read and write only its own folder and a temporary folder
of its own; reach Unix sockets only in the grader's socket folder.  Whatever the
kernel's user may read by the file permissions (a world-readable checkout, other
submissions, the output) is refused.  From ABI 4 it binds and connects to no TCP port; from
ABI 6 it can neither signal nor reach the abstract Unix sockets of any process outside its
own sandbox (the grader, the checker, the jail), and, as with every Landlock domain, it can
trace or read the memory of none of them.

Built on ``landlockpy`` (Quad4, 0BSD, no dependency), which knows every right of ABI 1 to 11
and drops those the running kernel lacks: the scopes and network rights above come with it.
"""

import os

try:
    import landlockpy
    from landlockpy import AccessFS, Scope

    # What a rule on a file (not a folder) may grant.
    FILE_RIGHTS = AccessFS.EXECUTE | AccessFS.WRITE_FILE | AccessFS.READ_FILE | AccessFS.TRUNCATE | AccessFS.IOCTL_DEV
except ImportError:  # an environment without it: the probe reports no Landlock
    landlockpy = None  # type: ignore[assignment]


def abi():
    """The Landlock ABI the running kernel offers (0 where it offers none, or the binding is
    missing)."""
    if landlockpy is None:
        return 0
    try:
        return landlockpy.abi_version()
    except OSError:  # a seccomp profile that refuses the call
        return 0


def confine(read, write, sockets, devices):
    """Allow this process and every process it starts only: reading and running files under
    ``read``; anything under ``write``; reading and reaching the Unix sockets under
    ``sockets``; reading, writing and controlling the ``devices`` (paths).  No TCP, no
    signal or abstract socket out of the sandbox.  Needs no_new_privs or CAP_SYS_ADMIN."""
    readable = AccessFS.READ_FILE | AccessFS.READ_DIR | AccessFS.EXECUTE
    with landlockpy.Ruleset(scoped=Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL) as rules:
        everything = rules.handled_fs
        for paths, access in ((read, readable), (write, everything),
                              (sockets, AccessFS.READ_FILE | AccessFS.READ_DIR | AccessFS.RESOLVE_UNIX),
                              (devices, AccessFS.READ_FILE | AccessFS.WRITE_FILE | AccessFS.IOCTL_DEV)):
            for path in paths:
                if os.path.exists(path):
                    rules.allow_path(path, access if os.path.isdir(path) else access & FILE_RIGHTS)
        rules.restrict()
