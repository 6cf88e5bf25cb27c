"""Start a command with the grader's private files out of its view, as another user.

The kernel command of every grading run goes through here, inside a fresh mount namespace
(``unshare --mount``), before anything of the student's runs:

1. ``--reach PATH``: paths the command needs (the Python installation) stay reachable for
   the new user even when an ancestor is closed to others (pyenv or miniforge under
   ``/root``): the closed ancestor is covered by an empty tmpfs and PATH is moved back in.
2. ``--hide PATH``: each path (the autograder's tests and reference, the solutions) is
   covered by an empty tmpfs that nobody may open.
3. ``--private-shm``: ``/dev/shm`` becomes a small tmpfs of the command's own.
4. ``--user UID``: as root, drop to UID (no groups, no capabilities) and run the command.
   Without root (a user namespace), the command runs in a nested user namespace instead,
   which locks the mounts above so that it cannot unmount them.

Usage: ``python jail.py [--user UID] [--hide PATH]... [--reach PATH]... [--private-shm] -- CMD...`` (it imports
only the standard library, so it runs as a script wherever the grader is).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path


SHARED_MEMORY = "64m"


def closed_ancestor(path):
    """The topmost ancestor of ``path`` that other users cannot enter, or None."""
    for ancestor in reversed(Path(path).parents):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def keep_reachable(paths, scratch):
    """Cover each closed ancestor of ``paths`` with an open tmpfs holding just those paths."""
    by_ancestor = {}
    for path in paths:
        ancestor = closed_ancestor(path)
        if ancestor is not None and Path(path).exists():
            by_ancestor.setdefault(ancestor, set()).add(Path(path))
    for number, (ancestor, inside) in enumerate(sorted(by_ancestor.items())):
        inside = [p for p in sorted(inside) if not any(q in p.parents for q in inside)]
        parked = []
        for k, path in enumerate(inside):
            park = Path(scratch) / f"park-{number}-{k}"
            park.mkdir()
            _mount("--bind", str(path), str(park))
            parked.append((park, path))
        _mount("-t", "tmpfs", "-o", "mode=0755,size=64k", "rnnlab-open", str(ancestor))
        for park, path in parked:
            path.mkdir(parents=True, exist_ok=True)
            _mount("--move", str(park), str(path))


def hide(paths):
    """Cover each existing folder with an empty tmpfs that no one may enter, and each file
    with an empty one."""
    for path in paths:
        if Path(path).is_dir():
            _mount("-t", "tmpfs", "-o", "mode=000,size=4k", "rnnlab-hidden", str(path))
        elif Path(path).is_file():
            _mount("--bind", "/dev/null", str(path))


def _mount(*arguments):
    subprocess.run(["mount", *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jail")
    parser.add_argument("--user", type=int)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--reach", action="append", default=[])
    parser.add_argument("--private-shm", action="store_true", help="only inside a mount namespace")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    with tempfile.TemporaryDirectory(prefix="rnnlab-jail-") as scratch:
        if options.user is not None:
            keep_reachable(options.reach, scratch)
        hide(options.hide)
    # Shared memory of its own, small: files there would hold memory the watchdog cannot
    # see, and would pass notes between submissions graded side by side.
    if options.private_shm and Path("/dev/shm").is_dir():
        _mount("-t", "tmpfs", "-o", f"mode=1777,size={SHARED_MEMORY}", "rnnlab-shm", "/dev/shm")
    if options.user is not None:
        os.setgroups([])
        os.setgid(options.user)
        os.setuid(options.user)
    else:
        command = ["unshare", "--user", "--mount", "--"] + command
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
