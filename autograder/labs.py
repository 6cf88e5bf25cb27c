"""Where a lab's parts live, read into one typed description.

A lab ``L`` is ``solutions/L.py`` (the reference, cut into cells at ``# %% [name]``),
``assignments/L/narrative.md`` (the text, with markers placing cells and questions) and
``assignments/L/tests/qN.py`` (one file of test functions per question).  An optional
``assignments/L/lab.toml`` names the corpora its checks read (``corpora = ["sherlock"]``) and
the files a submission carries beside the notebook (``submission_files = ["model.pt"]``, which
the notebook's export cell zips with it).
"""

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .checks.corpora import CORPORA

ROOT = Path(__file__).resolve().parent.parent
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

    @property
    def points(self):
        """Total points of the autograded questions."""
        return sum(q.points for q in self.questions.values() if not q.manual)

    @property
    def manual_questions(self):
        """The questions graded by hand (written answers)."""
        return [q for q in self.questions.values() if q.manual]


def available_labs():
    """Names of the labs that have both a solution and an assignment folder."""
    return sorted(p.stem for p in SOLUTIONS.glob("*.py")
                  if p.stem != "__init__" and (ASSIGNMENTS / p.stem / "narrative.md").exists())


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
    path = ASSIGNMENTS / name / "lab.toml"
    settings = tomllib.loads(path.read_text()) if path.exists() else {}
    corpora, files = settings.get("corpora", []), settings.get("submission_files", [])
    known = set(CORPORA)
    if not isinstance(corpora, list) or not set(corpora) <= known:
        raise ValueError(f"{name}/lab.toml: corpora should be a list of {sorted(known)}, not {corpora!r}")
    if not isinstance(files, list) or not all(isinstance(f, str) and "/" not in f for f in files):
        raise ValueError(f"{name}/lab.toml: submission_files should be a list of file names, not {files!r}")
    return Lab(name, sections, blocks, questions, corpora, files)


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
