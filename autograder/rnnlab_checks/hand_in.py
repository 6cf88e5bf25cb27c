"""The notebook's hand-in cell: everything to hand in is checked first, then otter writes the
zip; a failure names what is missing and leaves no zip behind."""

import os
from pathlib import Path

from .failures import OneLineError


class NotHandedIn(OneLineError):
    """Something to hand in is missing."""


def hand_in(grader, namespace, *variables):
    """Zip the notebook with the files that the variables ``variables`` of ``namespace`` (the
    notebook's ``globals()``) name, through ``grader.export``.  Raises NotHandedIn naming every
    variable that is not set and every file that does not exist, before anything is written;
    removes a zip that an error left half written."""
    if not type(grader).__module__.startswith("otter"):
        return  # rnnlab's grader: there is nothing to hand in while grading
    files, problems = [], []
    for variable in variables:
        if variable not in namespace:
            problems.append(f"{variable} is not set (run the cell that sets it)")
        elif not isinstance(namespace[variable], (str, os.PathLike)) or not Path(namespace[variable]).is_file():
            problems.append(f"{namespace[variable]!r} ({variable}) does not exist here")
        else:
            files.append(os.fspath(namespace[variable]))
    if problems:
        raise NotHandedIn(f"nothing was written: {'; '.join(problems)}. Run the cells that write "
                          f"{'it' if len(problems) == 1 else 'them'}, then this cell again.")
    before = set(Path().glob("*.zip"))
    try:
        grader.export(pdf=False, files=files)
    except BaseException:
        for partial in set(Path().glob("*.zip")) - before:
            partial.unlink()
        raise
