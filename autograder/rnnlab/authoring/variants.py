"""Buggy student submissions made from the reference: a catalogue per lab.

``assignments/<lab>/variants.py`` defines ``VARIANTS``, a list of ``Variant``: a realistic
mistake written as a text substitution in the reference solution, the question that must
lose points for it, and words its failure message must contain.  A lab whose submissions
carry more than the notebook (trained checkpoints) defines ``example_files(folder,
reference)``, which writes those files (``reference``: the lab's reference module).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .labs import lab_module, reference_module


@dataclass(frozen=True)
class Variant:
    """One realistic bug: replace ``find`` (which occurs once) by ``replace``; a bug of
    several edits gives tuples of as many texts to find and to put in their place.  ``also``:
    the other questions whose checks cannot run without this code (a model that cannot be
    trained or sampled at all), which lose points too and say why."""

    name: str
    question: str
    find: str | tuple[str, ...]
    replace: str | tuple[str, ...]
    message: str
    also: tuple[str, ...] = ()

    def edits(self):
        """The ``(find, replace)`` pairs, in order."""
        if isinstance(self.find, str):
            return [(self.find, self.replace)]
        return list(zip(self.find, self.replace, strict=True))


def catalogue(lab):
    """The buggy variants of ``lab`` (an empty list if it has none)."""
    return list(getattr(lab_module(lab, "variants"), "VARIANTS", []))


def alternatives(lab):
    """Correct code of ``lab`` written differently (``ALTERNATIVES``): full marks expected."""
    return list(getattr(lab_module(lab, "variants"), "ALTERNATIVES", []))


def example_files(lab, folder):
    """Write the files an example submission of ``lab`` carries beside its notebook into
    ``folder``; their paths (none for a lab whose submission is the notebook alone)."""
    make = getattr(lab_module(lab, "variants"), "example_files", None)
    return make(Path(folder), reference_module(lab)) if make else []


def write_submission(notebook, path, files=()):
    """Write ``notebook`` as a submission at ``path`` (an .ipynb); with ``files``, the
    submission is a folder ``path`` without the suffix, holding the notebook and the files.
    Returns what to grade."""
    path = Path(path)
    if files:
        path.with_suffix("").mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy(file, path.with_suffix("") / Path(file).name)
        path = path.with_suffix("") / path.name
    nbformat.write(notebook, path)
    return path.parent if files else path


def write_catalogue(lab, solution_notebook, folder, only_reference=False):
    """Write the submissions that show a lab's checks at work into ``folder``: the reference
    (``reference``) and, unless ``only_reference``, one notebook with all the correct rewrites
    (``rewritten``) and each buggy variant (by its name); each with the files a submission of
    the lab carries.  Returns ``{name: what to grade}``; a variant that no longer applies to
    the solution raises ``ValueError`` before anything is graded."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = example_files(lab, folder / "files")
    paths = {"reference": write_submission(nbformat.read(solution_notebook, as_version=4),
                                           folder / "reference.ipynb", files)}
    if only_reference:
        return paths
    if alternatives(lab):
        paths["rewritten"] = write_submission(rewritten_notebook(solution_notebook, alternatives(lab)),
                                              folder / "rewritten.ipynb", files)
    for variant in catalogue(lab):
        paths[variant.name] = write_submission(buggy_notebook(solution_notebook, variant),
                                               folder / f"{variant.name}.ipynb", files)
    return paths


def buggy_notebook(solution_notebook, variant):
    """A copy of the solution notebook with ``variant`` applied; fails if it does not apply."""
    return rewritten_notebook(solution_notebook, [variant])


def rewritten_notebook(solution_notebook, variants):
    """A copy of the solution notebook with every one of ``variants`` applied, in order."""
    notebook = nbformat.read(solution_notebook, as_version=4)
    for variant in variants:
        for find, replace in variant.edits():
            hits = [c for c in notebook.cells if c.cell_type == "code" and find in c.source]
            count = sum(c.source.count(find) for c in hits)
            if count != 1:
                raise ValueError(f"variant {variant.name}: the text to replace occurs {count} times, not once")
            hits[0].source = hits[0].source.replace(find, replace)
    return notebook
