"""Buggy student submissions made from the reference: a catalogue per lab.

``assignments/<lab>/variants.py`` defines ``VARIANTS``, a list of ``Variant``: a realistic
mistake written as a text substitution in the reference solution, the question that must
lose points for it, and words its failure message must contain.
"""

import importlib.util
from dataclasses import dataclass

import nbformat

from .labs import ASSIGNMENTS


@dataclass(frozen=True)
class Variant:
    """One realistic bug: replace ``find`` (which occurs once) by ``replace``."""

    name: str
    question: str
    find: str
    replace: str
    message: str


def catalogue(lab):
    """The buggy variants of ``lab`` (an empty list if it has none)."""
    return list(getattr(_variants_module(lab), "VARIANTS", []))


def alternatives(lab):
    """Correct code of ``lab`` written differently (``ALTERNATIVES``): full marks expected."""
    return list(getattr(_variants_module(lab), "ALTERNATIVES", []))


def _variants_module(lab):
    path = ASSIGNMENTS / lab / "variants.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"rnnlab_variants_{lab}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def buggy_notebook(solution_notebook, variant):
    """A copy of the solution notebook with ``variant`` applied; fails if it does not apply."""
    return rewritten_notebook(solution_notebook, [variant])


def rewritten_notebook(solution_notebook, variants):
    """A copy of the solution notebook with every one of ``variants`` applied, in order."""
    notebook = nbformat.read(solution_notebook, as_version=4)
    for variant in variants:
        hits = [c for c in notebook.cells if c.cell_type == "code" and variant.find in c.source]
        count = sum(c.source.count(variant.find) for c in hits)
        if count != 1:
            raise ValueError(f"variant {variant.name}: the text to replace occurs {count} times, not once")
        hits[0].source = hits[0].source.replace(variant.find, variant.replace)
    return notebook
