"""The code a student wrote, read from a submission (or a known solution) and cut by function.

The student template of a lab is the boilerplate: its top-level functions and classes whose
body holds a stub (``...``) are what students write (each a *section*, in the template's
order); every other piece of the template (set-up, given functions, ``grader.check`` cells)
is left out of a submission's code wherever the submission repeats it unchanged.  What a
submission adds of its own outside the stubbed functions (a helper, a cell of experiments)
is one more section, ``OTHER``.

Each piece is kept as Python reads it (``canonical``: ``ast.unparse`` of it, docstrings
left out), so that no reformatting, redundant parenthesis or comment changes what is
compared; a piece Python cannot parse is kept as written.
"""

import ast
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from rnnlab_engine import grading
from rnnlab_engine.grading import SubmissionError

from ..authoring.labs import ROOT
from ..batch.csvfiles import InputFileError

OTHER = "other code"
# A notebook or Python file is read only below this size (a submission may be hostile; a
# hand-in zip has grading's own limits).
MAX_NOTEBOOK_BYTES = 50 * 2**20
IPYTHON = TransformerManager()


@dataclass
class StudentCode:
    """The code of one submission (or of one known solution, ``known``), by section:
    ``{section: source}``, the lab's sections in their order and ``OTHER`` last; ``problem``
    says why nothing could be read."""

    id: str
    sections: dict[str, str] = field(default_factory=dict)
    known: bool = False
    problem: str = ""

    @property
    def text(self):
        """All its code, section after section (what is fingerprinted)."""
        return "\n\n".join(self.sections.values())

    def section_spans(self):
        """``[(section, start, end)]``: where each section lies in ``text``."""
        spans, start = [], 0
        for name, source in self.sections.items():
            spans.append((name, start, start + len(source)))
            start += len(source) + 2
        return spans


@dataclass
class Template:
    """What a lab hands out: the sections students write (``stubbed``, in order), every
    top-level piece of its code (``pieces``, to leave out where a submission repeats them),
    and all its code (``text``, whose fingerprints are boilerplate)."""

    stubbed: list[str]
    pieces: set[str]
    text: str


def template_path(lab):
    """The student notebook of ``lab`` as it is handed out."""
    return ROOT / "student_template" / lab / f"{lab}.ipynb"


def read_template(lab):
    """The ``Template`` of ``lab``, from its student notebook."""
    notebook = nbformat.read(template_path(lab), as_version=4)
    sources = code_cells(notebook)
    stubbed, pieces = [], set()
    for source in sources:
        for name, node_source, node in top_level_pieces(source):
            pieces.add(normalised(node_source))
            if name and node is not None and has_stub(node) and name not in stubbed:
                stubbed.append(name)
    return Template(stubbed, pieces, "\n\n".join(canonical(source) for source in sources))


def code_cells(notebook):
    """The sources of the notebook's code cells."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]


def top_level_pieces(source):
    """``[(name, source, node)]`` of a cell: each top-level function or class with its name,
    each run of other statements with none.  IPython's ``%magic`` and ``!command`` lines are
    read as IPython runs them (``get_ipython()...`` calls); a cell Python cannot parse even so
    (a syntax error, nesting too deep for the parser) is one piece of no name."""
    try:
        source = IPYTHON.transform_cell(source)
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [("", source, None)]
    lines = source.splitlines()
    pieces, loose, emitted = [], [], 0
    for node in tree.body:
        first = max(emitted + 1, min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]))
        if first > node.end_lineno:  # a statement sharing the line of the one before (a; b)
            continue
        text = "\n".join(lines[first - 1:node.end_lineno])
        emitted = node.end_lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if loose:
                pieces.append(("", "\n".join(loose), None))
                loose = []
            pieces.append((node.name, text, node))
        else:
            loose.append(text)
    if loose:
        pieces.append(("", "\n".join(loose), None))
    return pieces


def has_stub(node):
    """Whether a function or class holds ``...`` as a statement: a stub left to the student."""
    return any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and n.value.value is Ellipsis
               for n in ast.walk(node))


def normalised(source):
    """``source`` without its blank lines and trailing spaces: the same piece however spaced."""
    return "\n".join(line.rstrip() for line in source.splitlines() if line.strip())


def canonical(source):
    """``source`` as Python reads it: one layout, no comments, no redundant parentheses, no
    docstrings of functions and classes (prose, most of it the template's)."""
    try:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and _docstring(body[0]):
                node.body = body[1:] or [ast.Pass()]
        return ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source


def _docstring(statement):
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def student_code(identifier, sources, template, known=False):
    """The ``StudentCode`` of the code cells (or file) ``sources``: each stubbed function
    the student defined (the last definition, as Python keeps it), and every other piece
    that is not the template's own, in ``OTHER``."""
    sections, other = {}, []
    for source in sources:
        for name, text, _ in top_level_pieces(source):
            if normalised(text) in template.pieces:
                continue
            if name in template.stubbed:
                sections[name] = canonical(text)
            elif text.strip():
                other.append(canonical(text))
    ordered = {name: sections[name] for name in template.stubbed if name in sections}
    if other:
        ordered[OTHER] = "\n\n".join(other)
    return StudentCode(identifier, ordered, known)


def read_sources(path):
    """The code of a submission or known solution at ``path``: a Python file, or the notebook
    of a file, a folder or a hand-in zip, read and validated as grading reads it
    (``rnnlab_engine.grading``).  Raises ``ValueError`` or ``SubmissionError`` with what is
    wrong."""
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path) and path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{path.name} is over {MAX_NOTEBOOK_BYTES // 2**20} MB")
    if path.suffix == ".py" and path.is_file():
        return [path.read_text(encoding="utf-8", errors="replace")]
    if path.is_dir():  # read in place: the files handed in beside it are not copied
        return code_cells(grading.only_notebook(path, path.name))
    with tempfile.TemporaryDirectory(prefix="rnnlab-similarity-") as scratch:
        return code_cells(grading.load_submission(path, Path(scratch) / "submission"))


def read_student_code(identifier, path, template, known=False):
    """``student_code`` of the file or folder at ``path``; one that cannot be read is a
    ``StudentCode`` with no sections and the ``problem``."""
    try:
        return student_code(identifier, read_sources(path), template, known)
    except (OSError, ValueError, SubmissionError, RecursionError, MemoryError) as error:
        return StudentCode(identifier, {}, known, problem=str(error) or type(error).__name__)


def known_solutions(folder):
    """Every ``.py`` and ``.ipynb`` file under ``folder`` (Jupyter's checkpoints aside), as
    ``(name, path)``: the name is its path inside the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"--against {folder}: not a folder")
    return [(str(p.relative_to(folder)), p) for p in sorted(folder.rglob("*"))
            if p.suffix in (".py", ".ipynb") and p.is_file() and ".ipynb_checkpoints" not in p.parts]
