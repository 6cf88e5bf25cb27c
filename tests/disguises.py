"""Submissions made of given functions, and the disguises a copier uses on them: what the
similarity tests and ``benchmarks/similarity_benchmark.py`` build their cohorts from."""

import ast
import io
import random
import tokenize
from pathlib import Path

import nbformat

from rnnlab.similarity.sources import template_path, top_level_pieces

ROOT = Path(__file__).resolve().parents[1]
INDEPENDENT = ROOT / "tests" / "independent"
SOLUTION_MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")


def function_sources(path):
    """``{name: source}`` of the top-level functions and classes of the Python file at
    ``path``, the reference's solution markers left out."""
    text = "\n".join(line for line in Path(path).read_text().splitlines() if line.strip() not in SOLUTION_MARKERS)
    return {name: source for name, source, node in top_level_pieces(text) if name}


def implementations(lab="char_rnn_numpy"):
    """``{style: {name: source}}``: the reference and each independent implementation of ``lab``."""
    found = {"reference": function_sources(ROOT / "solutions" / f"{lab}.py")}
    for path in sorted(INDEPENDENT.glob(f"{lab}_*.py")):
        found[path.stem.removeprefix(f"{lab}_")] = function_sources(path)
    return found


def notebook_with(lab, functions, one_cell=False):
    """The student template of ``lab`` with ``functions`` (``{name: source}``) written in:
    each stubbed function replaced where it stands, the others (a student's helpers) added to
    the first answer; with ``one_cell``, every function in one cell at the end, in the order
    of ``functions`` (as a copier pastes them) and the stubs left as handed out."""
    notebook = nbformat.read(template_path(lab), as_version=4)
    if one_cell:
        notebook.cells.append(nbformat.v4.new_code_cell("\n\n\n".join(functions.values())))
        return notebook
    placed, first_answer = set(), None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        pieces = top_level_pieces(cell.source)
        if not any(name in functions for name, _, _ in pieces):
            continue
        first_answer = first_answer or cell
        cell.source = "\n\n\n".join(functions[name] if name in functions else text for name, text, _ in pieces)
        placed |= {name for name, _, _ in pieces if name in functions}
    helpers = [source for name, source in functions.items() if name not in placed]
    if helpers:
        first_answer.source = "\n\n\n".join(helpers + [first_answer.source])
    return notebook


def renamed(source, seed=0):
    """``source`` with every argument and local variable of its functions renamed (its
    functions' own names kept: a notebook's tests call them), formatting and comments kept."""
    tree = ast.parse(source)
    local = set()
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))):
        arguments = function.args
        local |= {a.arg for a in arguments.args + arguments.kwonlyargs + arguments.posonlyargs}
        local |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    keep = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))} | {"self"}
    names = sorted(local - keep)
    pick = random.Random(seed)
    new = {name: f"{pick.choice(['tmp', 'val', 'my', 'x', 'arr'])}_{i}_{name[::-1]}" for i, name in enumerate(names)}
    lines = source.splitlines()
    spots = [(start, end, new[text]) for kind, text, start, end, _ in
             tokenize.generate_tokens(io.StringIO(source).readline) if kind == tokenize.NAME and text in new]
    for (row, begin), (_, stop), name in reversed(spots):  # from the end: earlier columns stay put
        lines[row - 1] = lines[row - 1][:begin] + name + lines[row - 1][stop:]
    return "\n".join(lines) + "\n"


def reformatted(source):
    """``source`` as ``ast.unparse`` writes it: other spacing, quotes, parentheses and line
    breaks; its comments gone."""
    return ast.unparse(ast.parse(source))


def commented(source, seed=0):
    """``source`` with a comment and a blank line after every other line."""
    pick = random.Random(seed)
    inside_strings = {row for kind, _, (first, _), (last, _), _ in tokenize.generate_tokens(io.StringIO(source).readline)
                      if kind == tokenize.STRING for row in range(first, last)}
    out = []
    for number, line in enumerate(source.splitlines()):
        out.append(line)
        if number % 2 and line.strip() and number + 1 not in inside_strings and not line.rstrip().endswith(
                (",", "(", "[", "{", "\\")):
            indent = line[:len(line) - len(line.lstrip())]
            out += [f"{indent}# {pick.choice(['step', 'now update', 'compute this', 'see lecture 5'])}", ""]
    return "\n".join(out) + "\n"


def disguised(functions, seed=0):
    """A copy of ``functions`` as a copier hands it in: variables renamed, reformatted,
    commented and the functions in another order (to be pasted in one cell)."""
    pick = random.Random(seed)
    names = list(functions)
    pick.shuffle(names)
    return {name: commented(reformatted(renamed(functions[name], seed)), seed) for name in names}


# What the comparison is not made to see through: rewrites of the statements themselves.

class _MatmulAsDot(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "dot", ast.Load()), [node.left, node.right], [])
        return node


def matmul_as_dot(source):
    """``source`` with every ``a @ b`` written ``np.dot(a, b)``."""
    return ast.unparse(_MatmulAsDot().visit(ast.parse(source)))


def statements_swapped(source):
    """``source`` with every two neighbouring assignments in a function's body swapped where
    neither reads or writes what the other writes (the same program)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        index = 0
        while index + 1 < len(body):
            first, second = body[index], body[index + 1]
            if isinstance(first, ast.Assign) and isinstance(second, ast.Assign) and _independent(first, second):
                body[index], body[index + 1] = second, first
                index += 2
            else:
                index += 1
    return ast.unparse(tree)


def _independent(first, second):
    def names(node, store):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) == store}
    written_first, written_second = names(first, True), names(second, True)
    return not (written_first & (names(second, False) | written_second) or written_second & names(first, False))


def padded(source, share=1.0, seed=0):
    """``source`` with a statement that does nothing after its functions' statements (after
    each one, or after a random ``share`` of them)."""
    pick = random.Random(seed)
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With)):
            node.body = [item for statement in node.body for item in (
                (statement, ast.parse("_unused = None").body[0]) if pick.random() < share else (statement,))]
    return ast.unparse(ast.fix_missing_locations(tree))
