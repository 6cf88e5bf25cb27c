"""What grading produces: a verdict per question and one per submission, as the engine's
callers (the batch, the reports, Gradescope's ``results.json``) read them."""

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, TypedDict

# Gradescope shows at most this much feedback per question.
FEEDBACK_LIMIT = 20_000
# Whatever a submission does, its results stay small: so many messages at most, each, and
# each test case's message and each written answer, cut to so many characters.
MAX_MESSAGES = 20
MESSAGE_LIMIT = 2_000
CASE_MESSAGE_LIMIT = 4_000
ANSWER_LIMIT = 20_000


class Case(TypedDict):
    """One test case's verdict, as the checker reports it."""

    name: str
    hidden: bool
    points: float
    passed: bool
    message: str


@dataclass
class QuestionResult:
    """Score and feedback of one question, with what checking it used:
    CPU seconds of the kernel and the checker, wall seconds, and the seconds of those spent
    waiting for a busy CPU."""

    name: str
    score: float
    possible: float
    status: str = "graded"
    output: str = ""
    cases: list[Case] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    waited_seconds: float = 0.0

    @property
    def passed_in_full(self) -> bool:
        """Whether every case of the question ran and passed."""
        return self.status == "graded" and bool(self.cases) and all(c["passed"] for c in self.cases)

    @property
    def failed_cases(self) -> list[str]:
        """Names of the test cases that failed (all of them if the question could not run)."""
        return [c["name"] for c in self.cases if not c["passed"]]


@dataclass
class SubmissionResult:
    """The grade of one submission."""

    submission: str
    status: str  # "ok", "partial" (something failed to run), "invalid" (not gradable), "error"
    questions: list[QuestionResult]
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_memory: int = 0
    images: list[str] = field(default_factory=list)
    student: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    isolation: dict[str, Any] = field(default_factory=dict)
    written: list[dict[str, Any]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    waited_seconds: float = 0.0
    grader: str = ""  # the machine that graded it (and the Dask worker, on a cluster)
    # The SHA-256 of the autograder zip that graded it and when (ISO 8601, UTC): a later batch
    # tells a regrade (another zip) from a resubmission (the same zip).  Empty in a result
    # stored before they were recorded.
    autograder: str = ""
    graded_at: str = ""

    @property
    def score(self) -> float:
        """Points earned on the autograded questions."""
        return sum(q.score for q in self.questions)

    @property
    def written_score(self) -> float:
        """Points the course staff gave the written answers so far (``rnnlab grade --manual``)."""
        return sum(w.get("score", 0) for w in self.written)

    @property
    def possible(self) -> float:
        """Points possible."""
        return sum(q.possible for q in self.questions)

    def to_gradescope(self) -> dict[str, Any]:
        """The submission's ``results.json`` in Gradescope's schema.  A written answer counts
        only once the course staff gave it a score (``score`` in it, merged by ``rnnlab grade
        --manual``)."""
        return {
            "score": self.score + self.written_score,
            "execution_time": round(self.seconds),
            "output": "\n".join(self.messages) or "Graded.",
            "tests": [{"name": q.name, "score": q.score, "max_score": q.possible,
                       "status": "passed" if q.score >= q.possible else "failed",
                       "output": q.output[:FEEDBACK_LIMIT], "visibility": "visible"}
                      for q in self.questions]
            + [{"name": f"{w['name']} (written, {w['points']:g} pts, graded by hand)", "score": w.get("score", 0),
                "max_score": w["points"] if "score" in w else 0,
                "output": (w["answer"] or "(no answer)")[:FEEDBACK_LIMIT], "visibility": "visible"}
               for w in self.written],
            "rnnlab": {"submission": self.submission, "status": self.status, "messages": self.messages,
                       "seconds": round(self.seconds, 1), "cpu_seconds": round(self.cpu_seconds, 1),
                       "waited_seconds": round(self.waited_seconds, 1), "peak_memory": self.peak_memory,
                       "grader": self.grader, "autograder": self.autograder, "graded_at": self.graded_at,
                       "student": self.student, "fingerprint": self.fingerprint,
                       "isolation": self.isolation, "written": self.written,
                       "questions": [asdict(q) for q in self.questions]},
        }

    @classmethod
    def from_gradescope(cls, stored: dict[str, Any]) -> "SubmissionResult":
        """Rebuild a result from the ``results.json`` that ``to_gradescope`` wrote (by this
        rnnlab or an earlier one: what it did not record yet takes its default)."""
        own = dict(stored["rnnlab"])
        own["questions"] = [QuestionResult(**q) for q in own["questions"]]
        return cls(**own)


def feedback_text(cases: list[Case]) -> str:
    """What a student reads for one question: a line per case, each failure's message below it."""
    lines = []
    for case in cases:
        kind = "hidden" if case["hidden"] else "public"
        if case["passed"]:
            lines.append(f"PASS {case['name']} ({kind}, {case['points']:g} pt)")
        else:
            lines.append(f"FAIL {case['name']} ({kind}, {case['points']:g} pt)\n"
                         + _indent(case["message"].replace("❌ Test case failed\n", "")))
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def bounded_case(case: Case) -> Case:
    """``case`` with its message cut to ``CASE_MESSAGE_LIMIT`` characters."""
    return {**case, "message": cut(case["message"], CASE_MESSAGE_LIMIT)}


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and how many more there were."""
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit:,} more characters]"


class Notes:
    """The messages of one submission, each said once: the same message about several
    cells becomes one ("Code cells 7 to 100,000 were not run: ..."), and at most
    ``MAX_MESSAGES`` of ``MESSAGE_LIMIT`` characters are kept."""

    def __init__(self) -> None:
        self._cells: dict[str, list[int]] = {}

    def add(self, template: str, cells: Iterable[int] = ()) -> None:
        """Note ``template``; with ``cells``, its ``{cells}`` names the cells (``{was}``: "was"
        or "were") of every note of the same template."""
        self._cells.setdefault(template, []).extend(cells)

    def __bool__(self) -> bool:
        return bool(self._cells)

    def lines(self) -> list[str]:
        """The messages, in the order of their first note."""
        # replace, not format: a template quotes the student's code and errors, braces and all
        lines = [template.replace("{cells}", _cells(cells)).replace("{was}", "was" if len(set(cells)) == 1 else "were")
                 if cells else template for template, cells in self._cells.items()]
        kept = [cut(line, MESSAGE_LIMIT) for line in lines[:MAX_MESSAGES]]
        if len(lines) > MAX_MESSAGES:
            kept.append(f"... and {len(lines) - MAX_MESSAGES:,} more messages.")
        return kept


def _cells(numbers: list[int]) -> str:
    """"Code cell 7", "Code cells 7 to 100,000", "Code cells 2, 5 and 7 to 9"."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    parts = [f"{a:,}" if a == b else f"{a:,}, {b:,}" if b == a + 1 else f"{a:,} to {b:,}" for a, b in ranges]
    if len(parts) > 10:
        parts = parts[:10] + [f"{len(parts) - 10:,} more"]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Code cell {listed}" if len(set(numbers)) == 1 else f"Code cells {listed}"
