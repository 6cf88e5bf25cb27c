"""Where a lab's parts live, read into one typed description.

A lab ``L`` is ``solutions/L.py`` (the reference, cut into cells at ``# %% [name]``) and the
folder ``assignments/L/``: ``narrative.md`` (the text, with markers placing cells and
questions), ``tests/qN.py`` (one file of test functions per question, whose points are the
question's) and ``lab.toml``: the ``corpora`` its checks read (``["sherlock"]``), the
``handed_in_files`` (the notebook's variables naming the files handed in beside it, which the
hand-in cell zips with it), and, under ``[student]``, what a stub's failing check says (``unfilled``) and how the notebook's
training is cut short when the solution is run as a student would (``shortened``).  The
folder's optional modules (``lab_checks``, ``fixtures``, ``variants``) are read by
``lab_module``.  A mistake in any of them is an ``AuthoringError``: one line with the file,
the line and the fix.
"""

import ast
import difflib
import importlib
import importlib.util
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab_checks.corpora import CORPORA

ROOT = Path(__file__).resolve().parents[3]
# rnnlab's packages: the tools (rnnlab) and the two that ship whole (rnnlab_engine, rnnlab_checks).
PACKAGES = ROOT / "autograder"
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"

SECTION_MARKER = re.compile(r"^# %% \[(\w+)\]\s*$")
# An HTML comment alone on a line: a marker when its first word is one (or looks like one).
COMMENT = re.compile(r"^<!--\s*(/?[\w-]+)\s*(:?)\s*(.*?)\s*-->\s*$")
VALUE_MARKERS = ("code", "question", "solution")
ANSWER_START, ANSWER_END = "answer", "/answer"
MARKERS = VALUE_MARKERS + (ANSWER_START, ANSWER_END)
KNOWN_MARKERS = "markers are " + ", ".join(f"<!-- {m}: ... -->" for m in VALUE_MARKERS) + \
    ", <!-- answer --> and <!-- /answer -->"
QUESTION_FLAGS = ("manual", "points=N")
QUESTION_NAME = re.compile(r"^[A-Za-z_]\w*$")
TEST_DECORATORS = ("public", "hidden")


class AuthoringError(ValueError):
    """A mistake in one of a lab's files, said in one line: the file, the line, what is wrong
    and how to fix it (``rnnlab build`` prints it without a traceback)."""

    def __init__(self, path, line, problem, fix=""):
        super().__init__(f"{shown(path)}{f':{line}' if line else ''}: {problem}" + (f"; {fix}" if fix else ""))


def shown(path):
    """``path`` relative to the checkout where it is inside it (as an author names it)."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def did_you_mean(word, known):
    """`` (did you mean 'x'?)`` for the closest known word, or nothing."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class TestCase:
    """One test function of a question, as otter will run it."""

    name: str
    source: str
    hidden: bool
    points: float


@dataclass
class Question:
    """A graded question: its prompt, the solution cells it asks for, and its tests."""

    name: str
    points: float = 0.0
    prompt: str = ""
    solution_sections: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    manual: bool = False
    answer: str = ""
    line: int = 0  # of its marker in the narrative


@dataclass
class Lab:
    """Everything the build needs to know about one lab."""

    name: str
    sections: dict
    blocks: list
    questions: dict
    corpora: list = field(default_factory=list)
    handed_in_files: list = field(default_factory=list)
    student: "StudentNotebook | None" = None

    @property
    def points(self):
        """Total points of the autograded questions."""
        return sum(q.points for q in self.questions.values() if not q.manual)

    @property
    def manual_questions(self):
        """The questions graded by hand (written answers)."""
        return [q for q in self.questions.values() if q.manual]


@dataclass(frozen=True)
class StudentNotebook:
    """What the test suite expects of the notebook as handed out (``[student]`` in lab.toml)."""

    unfilled_question: str
    unfilled_message: str
    shortened: tuple = ()


LAB_SETTINGS = ("corpora", "handed_in_files", "student")
STUDENT_SETTINGS = ("unfilled", "shortened")


def available_labs():
    """Names of the labs that have both a solution and an assignment folder."""
    return sorted(p.stem for p in SOLUTIONS.glob("*.py")
                  if p.stem != "__init__" and (ASSIGNMENTS / p.stem / "narrative.md").exists())


def lab_module(lab, name):
    """The module ``assignments/<lab>/<name>.py`` (``variants``, ``fixtures``, ``lab_checks``),
    or None where the lab has none; loaded under a name of its own, so that two labs' modules
    of one name never meet."""
    path = ASSIGNMENTS / lab / f"{name}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"rnnlab_{lab}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_module(lab):
    """The reference solution of ``lab``, imported from the checkout as ``solutions.<lab>``
    (never installed, so that no kernel finds it in the Python installation); once."""
    name = f"{SOLUTIONS.name}.{lab}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{lab}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def load_lab(name):
    """Read and validate lab ``name``; a mistake in its files raises ``AuthoringError``."""
    if name not in available_labs():
        raise ValueError(f"unknown lab {name!r}; labs: {', '.join(available_labs())}")
    solution, folder = SOLUTIONS / f"{name}.py", ASSIGNMENTS / name
    sections, section_lines = split_sections(solution)
    narrative = folder / "narrative.md"
    blocks, questions, placed = parse_narrative(narrative)
    for section, line in placed:
        if section not in sections:
            raise AuthoringError(narrative, line, f"solution section {section!r} is not in {shown(solution)}"
                                 + did_you_mean(section, sections), f"its sections: {', '.join(sections)}")
    placed_sections = {s for s, _ in placed}
    for section, line in section_lines.items():
        if section not in placed_sections:
            raise AuthoringError(solution, line, f"section {section!r} is never placed in the narrative",
                                 f"add <!-- code: {section} --> to {shown(narrative)}, or list it in a "
                                 "question's <!-- solution: ... -->")
    for question in questions.values():
        if not question.manual:
            question.tests = read_tests(folder / "tests" / f"{question.name}.py", question, narrative)
            question.points = sum(t.points for t in question.tests)
    for path in sorted((folder / "tests").glob("*.py")):
        if path.stem not in questions or questions[path.stem].manual:
            raise AuthoringError(path, None, f"no autograded question {path.stem} in {shown(narrative)}",
                                 f"add <!-- question: {path.stem} --> there, or delete this file")
    lab = Lab(name, sections, blocks, questions)
    read_settings(lab, folder / "lab.toml")
    code = "\n".join(sections.values())
    for variable in lab.handed_in_files:
        if not re.search(rf"^{variable}\s*=", code, re.MULTILINE):
            raise AuthoringError(folder / "lab.toml", None, f"handed_in_files names {variable}, which "
                                 f"{shown(solution)} never sets", "name the variables holding the file names")
    return lab


def read_settings(lab, path):
    """Fill ``lab`` from its ``lab.toml``; a missing file, an unknown key or a value of the
    wrong kind raises AuthoringError naming it."""
    if not path.is_file():
        raise AuthoringError(path, None, "missing", "create it: it needs at least [student] unfilled = { question = "
                             "\"qN\", message = \"...\" } (what a stub's failing check says)")
    text = path.read_text()
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"\(at line (\d+)", str(error))
        raise AuthoringError(path, int(at.group(1)) if at else None, re.sub(r" \(at .*\)$", "", str(error))) from None

    def line_of(key):
        found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
        return text.count("\n", 0, found.start()) + 1 if found else None

    def refuse(key, problem, fix=""):
        raise AuthoringError(path, line_of(key), problem, fix)

    student = settings.get("student", {})
    if not isinstance(student, dict):
        refuse("student", "student should be a table: [student]")
    for key in settings:
        if key not in LAB_SETTINGS:
            refuse(key, f"unknown setting {key!r}" + did_you_mean(key, LAB_SETTINGS),
                   f"the settings are {', '.join(LAB_SETTINGS)}" + (
                       " (a question's points are its tests': @public(points=..), @hidden(points=..))"
                       if key == "points" else ""))
    for key in student:
        if key not in STUDENT_SETTINGS:
            refuse(key, f"unknown setting student.{key}" + did_you_mean(key, STUDENT_SETTINGS),
                   f"[student] takes {', '.join(STUDENT_SETTINGS)}")
    lab.corpora, lab.handed_in_files = settings.get("corpora", []), settings.get("handed_in_files", [])
    if not isinstance(lab.corpora, list) or not all(isinstance(c, str) and c in CORPORA for c in lab.corpora):
        refuse("corpora", f"corpora should be a list of {sorted(CORPORA)}, not {lab.corpora!r}")
    if not isinstance(lab.handed_in_files, list) or not all(
            isinstance(f, str) and f.isidentifier() for f in lab.handed_in_files):
        refuse("handed_in_files", f"handed_in_files should list the notebook's variables that hold the names "
               f"of the files handed in beside it, not {lab.handed_in_files!r}")
    unfilled, shortened = student.get("unfilled", {}), student.get("shortened", [])
    if not isinstance(unfilled, dict) or set(unfilled) != {"question", "message"} or unfilled["question"] not in lab.questions:
        refuse("unfilled", "student.unfilled should be { question = \"qN\", message = \"...\" }: what a stub's "
               "failing check of that question says")
    if not isinstance(shortened, list) or len(shortened) not in (0, 2):
        refuse("shortened", f"student.shortened should be [find, replace], not {shortened!r}")
    lab.student = StudentNotebook(unfilled["question"], unfilled["message"], tuple(shortened))


def split_sections(path):
    """Cut a solution module at ``# %% [name]`` lines (the module docstring is dropped):
    ``({name: source}, {name: line of its marker})``."""
    sections, lines, current = {}, {}, None
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        match = SECTION_MARKER.match(line)
        if match:
            current = match.group(1)
            if current in sections:
                raise AuthoringError(path, number, f"section {current!r} is cut twice (first at line {lines[current]})",
                                     "give one of them another name")
            sections[current], lines[current] = [], number
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(body).strip("\n") for name, body in sections.items()}, lines


def parse_narrative(path):
    """Blocks ``(kind, value)`` of the narrative at ``path``, its questions by name, and where
    each solution section is placed (``[(section, line)]``).

    kinds: ``markdown`` (text), ``python`` (a fenced code cell), ``python skip-when-grading``
    (one that the grader does not run: training on the whole corpus), ``code`` (a solution
    section shown whole) and ``question`` (a question name; its prompt and solution sections are in
    the Question).  A question's prompt runs from its marker to its ``solution`` marker.  A
    question marked ``manual`` is answered in writing and graded by hand: its prompt runs to
    an ``<!-- answer -->`` block, the reference answer, closed by ``<!-- /answer -->``.
    Any mistake (an unknown marker or flag, a question declared twice, a block left open)
    raises AuthoringError at its line.
    """
    blocks, questions, placed, lines, current = [], {}, [], [], None
    fence = answer = verbatim = None
    opened = 0  # the line where the open fence or answer block started
    cut_short = None  # the question whose prompt a code cell ended, and that cell's line

    def flush():
        body = "\n".join(lines).strip("\n")
        lines.clear()
        if not body:
            return
        if current is not None:
            current.prompt = (current.prompt + "\n\n" + body).strip()
        else:
            blocks.append(("markdown", body))

    def refuse(problem, fix=""):
        raise AuthoringError(path, number, problem, fix)

    def refuse_outside_question(what, fix):
        if cut_short:  # a code cell in a prompt ends it: say so, not that the marker is missing
            question, line = cut_short
            refuse(f"{what} after the code cell at line {line}, which ended {question.name}'s prompt",
                   f"a prompt is text only: move that code cell before <!-- question: {question.name} -->")
        refuse(f"{what} outside a question", fix)

    number = 0
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        marker = COMMENT.match(line.strip())
        word = marker.group(1) if marker else None
        if answer is not None:
            if word == ANSWER_END and not marker.group(2):
                answer.answer = "\n".join(lines).strip("\n")
                lines.clear()
                answer = None
            else:
                lines.append(line)
            continue
        if verbatim:  # a fence of another language: text, markers included
            lines.append(line)
            if line.strip().startswith(verbatim):
                verbatim = None
            continue
        if fence:
            if line.strip() == "```":
                blocks.append((fence, "\n".join(lines).strip("\n")))
                lines.clear()
                fence = None
            else:
                lines.append(line)
            continue
        if line.strip().startswith("```python"):
            if line.strip() not in ("```python", "```python skip-when-grading"):
                refuse(f"unknown code fence {line.strip()!r}", "use ```python or ```python skip-when-grading")
            flush()
            if current is not None:
                cut_short = (current, number)
            current, opened = None, number
            fence = line.strip().removeprefix("```")
            continue
        if line.strip().startswith(("```", "~~~")):
            verbatim, opened = line.strip()[:3], number
            lines.append(line)
            continue
        if not is_marker(marker):
            lines.append(line)  # text, or a comment of the author's
            continue
        flush()
        colon, value = marker.group(2), marker.group(3)
        if word in (ANSWER_START, ANSWER_END):
            if colon or value:
                refuse(f"<!-- {word} --> takes no value", f"write <!-- {word} --> alone on its line")
            if word == ANSWER_END:
                refuse("<!-- /answer --> closes no answer block", "open it with <!-- answer -->")
            if current is None or not current.manual:
                refuse_outside_question("an answer block", "mark the question manual: <!-- question: qN manual points=N -->")
            answer, current, opened = current, None, number
            continue
        if word in VALUE_MARKERS and not colon:
            refuse(f"<!-- {word} ... --> needs a colon", f"write <!-- {word}: {value} -->")
        if word not in VALUE_MARKERS:
            refuse(f"unknown marker {word!r}" + did_you_mean(word, MARKERS), KNOWN_MARKERS)
        if word == "code":
            current = None
            blocks.append(("code", value))
            placed.append((value, number))
        elif word == "question":
            current, cut_short = question_marker(value, refuse), None
            if current.name in questions:
                refuse(f"question {current.name} is declared twice (first at line {questions[current.name].line})",
                       "give this one another name")
            current.line = number
            questions[current.name] = current
            blocks.append(("question", current.name))
        else:
            if current is None:
                refuse_outside_question(f"<!-- solution: {value} -->", "put a <!-- question: qN --> marker before its prompt")
            if current.manual:
                refuse(f"{current.name} is answered in writing (manual): it has an answer block, not a solution")
            sections = [s.strip() for s in value.split(",")]
            current.solution_sections.extend(sections)
            placed.extend((s, number) for s in sections)
            current = None
    if fence or verbatim or answer is not None:
        number = opened
        refuse("this block is never closed", "close it with <!-- /answer -->" if answer else f"close it with {verbatim or '```'}")
    flush()
    for question in questions.values():
        if question.manual and not question.answer:
            number = question.line
            refuse(f"manual question {question.name} has no reference answer",
                   "write it between <!-- answer --> and <!-- /answer --> after its prompt")
        if not question.manual and not question.solution_sections:
            number = question.line
            refuse(f"question {question.name} has no <!-- solution: ... --> marker",
                   "end its prompt with the solution sections it asks for")
    return blocks, questions, placed


def is_marker(comment):
    """Whether an HTML comment line (a ``COMMENT`` match, or None) is meant as a marker: a known
    marker's word, or one close to it before a colon (``questoin:``), or close to ``answer``
    alone; any other comment is the author's, and stays in the text."""
    if comment is None:
        return False
    word, colon = comment.group(1), comment.group(2)
    close = difflib.get_close_matches(word, MARKERS if colon else (ANSWER_START, ANSWER_END), n=1, cutoff=0.75)
    return word in MARKERS or bool(close)


def question_marker(value, refuse):
    """The Question a ``<!-- question: NAME [manual points=N] -->`` marker declares.  An
    autograded question takes its points from its tests; one answered in writing (``manual``)
    has no tests and gives its points here."""
    name, *flags = value.split() or [""]
    if not QUESTION_NAME.match(name):
        refuse(f"{name!r} is not a question name", "name it like q1")
    question = Question(name, manual="manual" in flags)
    for flag in flags:
        key, equals, number = flag.partition("=")
        if flag == "manual":
            continue
        if key == "points" and not equals:
            refuse("points is given as points=N, without spaces")
        if key != "points" or not equals:
            refuse(f"unknown flag {flag!r} in question {name}" + did_you_mean(key, ("manual", "points")),
                   f"a question takes {' and '.join(QUESTION_FLAGS)} (points for a manual question only)")
        if not question.manual:
            refuse(f"points={number} on autograded question {name}: its points are its tests'",
                   f"remove points= here and give them with @public(points=..)/@hidden(points=..) in tests/{name}.py")
        try:
            question.points = float(number)
        except ValueError:
            question.points = -1
        if not (math.isfinite(question.points) and question.points > 0):
            refuse(f"points={number} is not a positive number")
    if question.manual and question.points <= 0:
        refuse(f"manual question {name} needs points=N (it has no tests to give them)")
    return question


def read_tests(path, question, narrative):
    """The test functions of one question's file, each with one ``@public(points=..)`` or
    ``@hidden(points=..)``; a question needs at least one of each."""
    if not path.is_file():
        raise AuthoringError(narrative, question.line, f"question {question.name} has no tests: {shown(path)} is missing",
                             "write it with at least one @public and one @hidden test")
    try:
        module = ast.parse(path.read_text())
    except SyntaxError as error:
        raise AuthoringError(path, error.lineno, f"syntax error: {error.msg}") from None
    tests = []
    for node in module.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        kinds = [d for d in node.decorator_list
                 if isinstance(d, ast.Call) and getattr(d.func, "id", "") in TEST_DECORATORS]
        if len(kinds) != 1:
            raise AuthoringError(path, node.lineno, f"{node.name} needs exactly one @public(points=..) or "
                                 "@hidden(points=..)", "@public tests run in grader.check for students, "
                                 "@hidden ones only while grading")
        decorator = kinds[0]
        arguments = {k.arg: k.value for k in decorator.keywords}
        for argument in arguments:
            if argument != "points":
                raise AuthoringError(path, decorator.lineno, f"unknown argument {argument!r} of @{decorator.func.id}"
                                     + did_you_mean(argument, ("points",)), "it takes points=N")
        try:
            points = float(ast.literal_eval(arguments["points"]))
        except (KeyError, ValueError, TypeError, SyntaxError):
            points = 0.0
        if not (math.isfinite(points) and points > 0):
            raise AuthoringError(path, decorator.lineno, f"{node.name} gives no positive points",
                                 f"write @{decorator.func.id}(points=N)")
        node.decorator_list = []
        tests.append(TestCase(node.name, ast.unparse(node), decorator.func.id == "hidden", points))
    for kind, hidden in (("@public", False), ("@hidden", True)):
        if not any(t.hidden == hidden for t in tests):
            raise AuthoringError(path, None, f"question {question.name} has no {kind} test",
                                 "each question needs at least one @public test (what grader.check runs for "
                                 "students) and one @hidden test (run only while grading)")
    return tests
