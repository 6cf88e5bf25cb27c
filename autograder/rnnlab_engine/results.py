"""What grading produces: a verdict per question and one per submission, as the engine's
callers (the batch, the reports, Gradescope's ``results.json``) read them."""

from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

# Gradescope shows at most this much feedback per question.
FEEDBACK_LIMIT = 20_000


class Case(TypedDict):
    """One test case's verdict, as the checker reports it."""

    name: str
    hidden: bool
    points: float
    passed: bool
    message: str


@dataclass
class QuestionResult:
    """Score and feedback of one question, with what checking it used (of its last try):
    CPU seconds of the kernel and the checker, wall seconds, and the seconds of those spent
    waiting for a busy CPU; ``attempts`` is 2 when it ran out of time once and was run again."""

    name: str
    score: float
    possible: float
    status: str = "graded"
    output: str = ""
    cases: list[Case] = field(default_factory=list)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    waited_seconds: float = 0.0
    attempts: int = 0

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

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(q.score for q in self.questions)

    @property
    def possible(self) -> float:
        """Points possible."""
        return sum(q.possible for q in self.questions)

    def to_gradescope(self) -> dict[str, Any]:
        """The submission's ``results.json`` in Gradescope's schema."""
        return {
            "score": self.score,
            "execution_time": round(self.seconds),
            "output": "\n".join(self.messages) or "Graded.",
            "tests": [{"name": q.name, "score": q.score, "max_score": q.possible,
                       "status": "passed" if q.score >= q.possible else "failed",
                       "output": q.output[:FEEDBACK_LIMIT], "visibility": "visible"}
                      for q in self.questions]
            + [{"name": f"{w['name']} (written, {w['points']:g} pts, graded by hand)", "score": 0, "max_score": 0,
                "output": (w["answer"] or "(no answer)")[:FEEDBACK_LIMIT], "visibility": "visible"}
               for w in self.written],
            "rnnlab": {"submission": self.submission, "status": self.status, "messages": self.messages,
                       "seconds": round(self.seconds, 1), "cpu_seconds": round(self.cpu_seconds, 1),
                       "waited_seconds": round(self.waited_seconds, 1), "peak_memory": self.peak_memory,
                       "student": self.student, "fingerprint": self.fingerprint,
                       "isolation": self.isolation, "written": self.written,
                       "questions": [asdict(q) for q in self.questions]},
        }

    @classmethod
    def from_gradescope(cls, stored: dict[str, Any]) -> "SubmissionResult":
        """Rebuild a result from the ``results.json`` that ``to_gradescope`` wrote."""
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
