"""The strongest file view: a root of the kernel's own, in new PID, mount and network namespaces.

Where the grader may make namespaces (root with CAP_SYS_ADMIN, or a normal user where user
namespaces are allowed), the jail's second stage, process 1 of a new PID namespace, fills an
empty tmpfs with what the kernel may see and moves into it (``pivot_root``): the system's
folders and the Python installation read-only, a ``/proc`` of the namespace's own, a ``/dev``
of a few devices, the grader's socket folder at its own place, and one tmpfs of a bounded size
behind every place where the kernel may write (its folder, a copy of the submission, and the
usual temporary folders).  Nothing else of the machine is there to find.  Standard library only.
"""

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

from .users import give_tree

# Where the kernel may write, all in the one private tmpfs.
WRITABLE = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm")
DEVICE_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                "stderr": "/proc/self/fd/2"}

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
ST_NOATIME, ST_NODIRATIME, ST_RELATIME, MS_RELATIME = 1024, 2048, 4096, 1 << 21
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


def make_root(root, read, devices, share, folder, space, user):
    """Make the folder ``root`` (an empty folder of the grader's) a tmpfs holding only what the
    kernel may see, and move into it: ``read`` shown read-only, ``devices`` (names under
    ``/dev``), ``share`` as they are, ``folder`` copied into a private tmpfs of ``space`` bytes
    (``user``'s) with the writable places.  The writable places come first: a path to show
    that lies below one (a Python in /tmp) is shown on top."""
    mount(None, "/", flags=MS_REC | MS_PRIVATE)
    mount("rnnlab-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    os.makedirs(root + "/dev")
    mount("rnnlab-dev", root + "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for name in devices:
        if os.path.isdir("/dev/" + name):  # /dev/nvidia-caps
            os.makedirs(root + "/dev/" + name)
        else:
            Path(root + "/dev/" + name).touch()
        mount("/dev/" + name, root + "/dev/" + name, flags=MS_BIND | MS_REC)
    for name, target in DEVICE_LINKS.items():
        os.symlink(target, root + "/dev/" + name)
    # One tmpfs behind every writable place: a single bound on what the kernel may write.
    private = root + "/.space"
    os.makedirs(private)
    mount("rnnlab-space", private, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={space}")
    for number, place in enumerate(WRITABLE):
        inside = f"{private}/{number}"
        os.mkdir(inside)
        os.chmod(inside, 0o1777)
        os.makedirs(root + place, exist_ok=True)
        mount(inside, root + place, flags=MS_BIND)
    shown = []
    for path in read:
        path = os.path.normpath(path)
        if os.path.lexists(path) and not any(path == p or path.startswith(p + "/") for p in shown):
            bind_read_only(path, root)
            shown.append(path)
    os.makedirs(root + "/proc")
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    copy = private + "/folder"
    shutil.copytree(folder, copy, symlinks=True)
    give_tree(copy, user)
    os.makedirs(root + folder, exist_ok=True)
    mount(copy, root + folder, flags=MS_BIND)
    for path in share:
        os.makedirs(root + path, exist_ok=True)
        mount(path, root + path, flags=MS_BIND)
    _libc.umount2(_bytes(private), MNT_DETACH)  # the binds keep it; its own path is gone
    os.rmdir(private)
    _enter(root)


def _enter(root):
    """Make ``root`` the root of this mount namespace, with nothing of the old one left."""
    os.chdir(root)
    os.mkdir(".old")
    subprocess.run(["pivot_root", ".", ".old"], check=True)
    os.chdir("/")
    if _libc.umount2(b"/.old", MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "detaching the old root")
    os.rmdir("/.old")
    mount(None, "/", flags=MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def no_more_namespaces():
    """In a user namespace of the kernel's own, allow no new one (which would give its maker
    every capability in it again): the seccomp filter forbids it too, where there is one."""
    for limit in ("max_user_namespaces", "max_mnt_namespaces"):
        try:
            Path(f"/proc/sys/user/{limit}").write_text("0")
        except OSError:
            pass
