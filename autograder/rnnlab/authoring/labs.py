"""Where a lab's parts live, read into one typed description.

A lab ``L`` is ``solutions/L.py`` (the reference, cut into cells at ``# %% [name]``) and the
folder ``assignments/L/``: ``narrative.md`` (the text, with markers placing cells and
questions), ``tests/qN.py`` (one file of test functions per question) and ``lab.toml``: its
autograded ``points``, the ``corpora`` its checks read (``["sherlock"]``), the
``submission_files`` handed in beside the notebook (which the export cell zips with it), and,
under ``[student]``, what a stub's failing check says (``unfilled``) and how the notebook's
training is cut short when the solution is run as a student would (``shortened``).  The
folder's optional modules (``lab_checks``, ``fixtures``, ``variants``) are read by
``lab_module``.
"""

import ast
import importlib
import importlib.util
import re
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
NARRATIVE_MARKER = re.compile(r"^<!--\s*(code|question|solution)\s*:\s*(.*?)\s*-->\s*$")
ANSWER_START, ANSWER_END = "<!-- answer -->", "<!-- /answer -->"


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
    points: float
    prompt: str = ""
    solution_sections: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    manual: bool = False
    answer: str = ""


@dataclass
class Lab:
    """Everything the build needs to know about one lab."""

    name: str
    sections: dict
    blocks: list
    questions: dict
    corpora: list = field(default_factory=list)
    submission_files: list = field(default_factory=list)
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


LAB_SETTINGS = {"points", "corpora", "submission_files", "student"}
STUDENT_SETTINGS = {"unfilled", "shortened"}


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
    """The reference solution of ``lab``, imported (``solutions.<lab>``)."""
    return importlib.import_module(f"{SOLUTIONS.name}.{lab}")


def load_lab(name):
    """Read and validate lab ``name``; raises ValueError naming what does not fit."""
    if name not in available_labs():
        raise ValueError(f"unknown lab {name!r}; labs: {', '.join(available_labs())}")
    sections = split_sections((SOLUTIONS / f"{name}.py").read_text())
    blocks, questions = parse_narrative((ASSIGNMENTS / name / "narrative.md").read_text())
    for question in questions.values():
        if question.manual:
            if not question.answer:
                raise ValueError(f"{name}/{question.name}: a manual question needs an <!-- answer --> block")
            continue
        question.tests = read_tests(ASSIGNMENTS / name / "tests" / f"{question.name}.py")
        missing = [s for s in question.solution_sections if s not in sections]
        if missing or not question.solution_sections:
            raise ValueError(f"{name}/{question.name}: missing solution sections {missing}")
        total = sum(t.points for t in question.tests)
        if abs(total - question.points) > 1e-9:
            raise ValueError(f"{name}/{question.name}: the narrative gives {question.points} "
                             f"points but its tests add up to {total}")
        if not any(t.hidden for t in question.tests) or all(t.hidden for t in question.tests):
            raise ValueError(f"{name}/{question.name}: needs public and hidden tests")
    used = {value for kind, value in blocks if kind == "code"}
    used |= {s for q in questions.values() for s in q.solution_sections}
    unused = set(sections) - used
    if unused:
        raise ValueError(f"{name}: solution sections never placed in the narrative: {sorted(unused)}")
    lab = Lab(name, sections, blocks, questions)
    read_settings(lab, ASSIGNMENTS / name / "lab.toml")
    return lab


def read_settings(lab, path):
    """Fill ``lab`` from its ``lab.toml``; a missing file, an unknown key or a value of the
    wrong kind raises ValueError naming it."""
    where = f"{lab.name}/lab.toml"
    if not path.is_file():
        raise ValueError(f"{where} is missing: it gives the lab's points (points = {lab.points:g})")
    try:
        settings = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{where}: {error}") from None
    student = settings.get("student", {})
    unknown = sorted(set(settings) - LAB_SETTINGS) + [f"student.{k}" for k in sorted(set(student) - STUDENT_SETTINGS)]
    if unknown:
        raise ValueError(f"{where}: unknown settings {unknown}; known: {sorted(LAB_SETTINGS)}, "
                         f"student.{sorted(STUDENT_SETTINGS)}")
    if settings.get("points") != lab.points:
        raise ValueError(f"{where} gives points = {settings.get('points')}, but the narrative's autograded "
                         f"questions add up to {lab.points:g}")
    lab.corpora, lab.submission_files = settings.get("corpora", []), settings.get("submission_files", [])
    known = set(CORPORA)
    if not isinstance(lab.corpora, list) or not set(lab.corpora) <= known:
        raise ValueError(f"{where}: corpora should be a list of {sorted(known)}, not {lab.corpora!r}")
    if not isinstance(lab.submission_files, list) or not all(
            isinstance(f, str) and "/" not in f for f in lab.submission_files):
        raise ValueError(f"{where}: submission_files should be a list of file names, not {lab.submission_files!r}")
    unfilled, shortened = student.get("unfilled", {}), student.get("shortened", [])
    if set(unfilled) != {"question", "message"} or unfilled["question"] not in lab.questions:
        raise ValueError(f"{where}: student.unfilled should be {{ question = \"qN\", message = \"...\" }}: what "
                         "a stub's failing check of that question says")
    if len(shortened) not in (0, 2):
        raise ValueError(f"{where}: student.shortened should be [find, replace], not {shortened!r}")
    lab.student = StudentNotebook(unfilled["question"], unfilled["message"], tuple(shortened))


def split_sections(source):
    """Cut a solution module at ``# %% [name]`` lines; the module docstring is dropped."""
    sections, current = {}, None
    for line in source.splitlines():
        match = SECTION_MARKER.match(line)
        if match:
            current = match.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {name: "\n".join(lines).strip("\n") for name, lines in sections.items()}


def parse_narrative(text):
    """Blocks ``(kind, value)`` of the narrative, and its questions by name.

    kinds: ``markdown`` (text), ``python`` (a fenced code cell), ``python skip-when-grading``
    (one that the grader does not run: training on the whole corpus), ``code`` (a solution
    section shown whole) and ``question`` (a question name; its prompt and solution sections are in
    the Question).  A question's prompt runs from its marker to its ``solution`` marker.  A
    question marked ``manual`` is answered in writing and graded by hand: its prompt runs to
    an ``<!-- answer -->`` block, the reference answer, closed by ``<!-- /answer -->``.
    """
    blocks, questions, lines, current = [], {}, [], None
    fence = answer = None

    def flush():
        body = "\n".join(lines).strip("\n")
        lines.clear()
        if not body:
            return
        if current is not None:
            current.prompt = (current.prompt + "\n\n" + body).strip()
        else:
            blocks.append(("markdown", body))

    for line in text.splitlines():
        if answer is not None:
            if line.strip() == ANSWER_END:
                answer.answer = "\n".join(lines).strip("\n")
                lines.clear()
                answer = None
            else:
                lines.append(line)
            continue
        if line.strip() == ANSWER_START:
            if current is None or not current.manual:
                raise ValueError("an answer block outside a manual question")
            flush()
            answer, current = current, None
            continue
        if fence:
            if line.strip() == "```":
                blocks.append((fence, "\n".join(lines).strip("\n")))
                lines.clear()
                fence = None
            else:
                lines.append(line)
            continue
        if line.strip() in ("```python", "```python skip-when-grading"):
            flush()
            current = None
            fence = line.strip().removeprefix("```")
            continue
        match = NARRATIVE_MARKER.match(line)
        if not match:
            lines.append(line)
            continue
        flush()
        kind, value = match.groups()
        if kind == "code":
            current = None
            blocks.append(("code", value))
        elif kind == "question":
            fields = dict(re.findall(r"(\w+)=(\S+)", value))
            qname = value.split()[0]
            current = Question(qname, float(fields.get("points", 0)), manual="manual" in value.split()[1:])
            questions[qname] = current
            blocks.append(("question", qname))
        else:
            if current is None:
                raise ValueError(f"solution marker '{value}' outside a question")
            current.solution_sections.extend(s.strip() for s in value.split(","))
            current = None
    flush()
    return blocks, questions


def read_tests(path):
    """The test functions of one question file, with decorators ``@public``/``@hidden``."""
    module = ast.parse(path.read_text())
    tests = []
    for node in module.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        kinds = [d for d in node.decorator_list
                 if isinstance(d, ast.Call) and getattr(d.func, "id", "") in ("public", "hidden")]
        if len(kinds) != 1:
            raise ValueError(f"{path}: {node.name} needs exactly one @public(points=..) or @hidden(points=..)")
        decorator = kinds[0]
        points = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}.get("points")
        if points is None:
            raise ValueError(f"{path}: {node.name} has no points")
        node.decorator_list = []
        tests.append(TestCase(node.name, ast.unparse(node), decorator.func.id == "hidden", float(points)))
    return tests
