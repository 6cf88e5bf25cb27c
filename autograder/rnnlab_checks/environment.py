"""Whether the Python running a student's notebook has what the grader runs: the pins of the
``requirements.txt`` handed out beside the notebook, read by the notebook's first cell.

A package the notebook imports that is missing stops the cell with one line that says what
to install (not an ImportError further down); another version than the grader's is said in
one line and does not stop anything.  Standard library only: it runs before anything is known
to be installed.
"""

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .failures import OneLineError

REQUIREMENTS = "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#=]+)")
# Pinned so that students get the same, but not needed to run the notebook (the grader has none).
FRONT_ENDS = ("jupyterlab",)


class MissingPackages(OneLineError, ImportError):
    """What the notebook needs and this Python lacks."""


def check_environment(folder="."):
    """Compare the installed packages with the pins of ``folder/requirements.txt`` (nothing to
    do where there is none, as while grading).  Raises MissingPackages naming every missing
    one; prints one line for those installed in another version.  Returns the line printed,
    or None."""
    path = Path(folder) / REQUIREMENTS
    if not path.is_file():
        return None
    missing, other = [], []
    for line in path.read_text().splitlines():
        pin = PIN.match(line.strip())
        if not pin or pin.group(1).lower() in FRONT_ENDS or ";" in line or "*" in pin.group(2):
            continue  # not an exact pin for every platform: nothing to compare
        name, wanted = pin.groups()
        try:
            installed = version(name)
        except PackageNotFoundError:
            missing.append(name)
            continue
        if installed is not None and installed.split("+")[0] != wanted.split("+")[0]:
            other.append(f"{name} {installed} (the grader runs {wanted})")
    install = f"pip install -r {REQUIREMENTS} (on Colab or a JupyterHub: !pip install -r {REQUIREMENTS}), then restart the kernel"
    if missing:
        raise MissingPackages(f"this Python lacks {', '.join(missing)}, which the notebook needs: {install}.")
    if other:
        said = f"Other versions than the grader's: {', '.join(other)}; for the same results: {install}."
        print(said)
        return said
    return None
