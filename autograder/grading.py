"""Grade one submission against an otter autograder zip, within time and memory limits.

The zip is the single source of truth: its ``tests/`` and ``files/`` are what Gradescope
runs.  The notebook's cells run one by one in a ``LimitedKernel``; then each question's
test file runs on its own, with its own timeout.  When a cell or a question hangs, crashes
the kernel or goes over the memory limit, that is written down, the kernel is restarted,
the cells that worked are replayed, and grading goes on with the next question.  The
result always comes back; nothing here raises for a bad submission.
"""

import json
import secrets
import shutil
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .kernel import OUTPUT_LIMIT, LimitedKernel, wait_until

# Gradescope gives a submission 10 minutes: keep 1 minute for its own set-up and upload.
TIME_LIMIT = 540
CELL_TIME_LIMIT = 120
QUESTION_TIME_LIMIT = 120
MEMORY_LIMIT = 768 * 2**20
FEEDBACK_LIMIT = 20_000
# The plots a notebook draws (its loss curves) go into the feedback page, the first few only.
MAX_IMAGES = 4

# Student notebooks call grader.check / export; while grading those are no-ops, because
# every question is run once, on its own, after the notebook.
GRADING_PRELUDE = """\
import otter as _rnnlab_otter
_rnnlab_otter.Notebook.check = lambda *args, **kwargs: None
_rnnlab_otter.Notebook.check_all = lambda *args, **kwargs: None
_rnnlab_otter.Notebook.export = lambda *args, **kwargs: None
del _rnnlab_otter
"""

# Runs one question's test file against the notebook's namespace.  Everything it uses is
# imported locally, so notebook globals named ``dict`` or ``print`` cannot get in its way.
QUESTION_RUNNER = """\
def _rnnlab_run_question(path, marker):
    import builtins, json, sys
    from otter.test_files import ExceptionTestFile
    test_file = ExceptionTestFile.from_file(path)
    test_file.run(sys.modules["__main__"].__dict__)
    cases = [builtins.dict(name=r.test_case.body.test_func.__name__, hidden=r.test_case.hidden,
                           points=r.test_case.points, passed=r.passed, message=r.message)
             for r in test_file.test_case_results]
    report = builtins.dict(score=test_file.score, possible=test_file.possible, cases=cases)
    builtins.print("\\n" + marker + json.dumps(report))
_rnnlab_run_question({path!r}, {marker!r})
"""


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message says what to fix."""


@dataclass
class QuestionResult:
    """Score and feedback of one question."""

    name: str
    score: float
    possible: float
    status: str = "graded"
    output: str = ""
    cases: list = field(default_factory=list)

    @property
    def failed_cases(self):
        """Names of the test cases that failed (all of them if the question could not run)."""
        return [c["name"] for c in self.cases if not c["passed"]]


@dataclass
class SubmissionResult:
    """The grade of one submission."""

    submission: str
    status: str
    questions: list
    messages: list = field(default_factory=list)
    seconds: float = 0.0
    peak_memory: int = 0
    images: list = field(default_factory=list)
    student: dict = field(default_factory=dict)
    fingerprint: str = ""
    isolation: dict = field(default_factory=dict)

    @property
    def score(self):
        """Points earned."""
        return sum(q.score for q in self.questions)

    @property
    def possible(self):
        """Points possible."""
        return sum(q.possible for q in self.questions)

    def to_gradescope(self):
        """The submission's ``results.json`` in Gradescope's schema."""
        return {
            "score": self.score,
            "execution_time": round(self.seconds),
            "output": "\n".join(self.messages) or "Graded.",
            "tests": [{"name": q.name, "score": q.score, "max_score": q.possible,
                       "status": "passed" if q.score >= q.possible else "failed",
                       "output": q.output[:FEEDBACK_LIMIT], "visibility": "visible"}
                      for q in self.questions],
            "rnnlab": {"submission": self.submission, "status": self.status, "messages": self.messages,
                       "seconds": round(self.seconds, 1), "peak_memory": self.peak_memory,
                       "student": self.student, "fingerprint": self.fingerprint,
                       "isolation": self.isolation,
                       "questions": [asdict(q) for q in self.questions]},
        }

    @classmethod
    def from_gradescope(cls, stored):
        """Rebuild a result from the ``results.json`` that ``to_gradescope`` wrote."""
        own = dict(stored["rnnlab"])
        own["questions"] = [QuestionResult(**q) for q in own["questions"]]
        return cls(**own)


def grade_submission(autograder_zip, submission, time_limit=TIME_LIMIT, memory_limit=MEMORY_LIMIT,
                     cell_time_limit=CELL_TIME_LIMIT, question_time_limit=QUESTION_TIME_LIMIT):
    """Grade ``submission`` (.ipynb or .zip) with ``autograder_zip``; never raises for bad input."""
    started = time.monotonic()
    deadline = started + time_limit
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as workdir:
        workdir = Path(workdir)
        questions = unpack_autograder(autograder_zip, workdir / "source")
        try:
            notebook = load_submission(Path(submission), workdir / "submission")
        except SubmissionError as error:
            result = SubmissionResult("", "invalid", [
                QuestionResult(name, 0.0, points, "not graded", str(error)) for name, points in questions],
                [f"Not graded: {error}"])
        else:
            install_support_files(workdir)
            grader = _Run(workdir / "submission", memory_limit, deadline, cell_time_limit, question_time_limit)
            result = grader.grade(notebook, questions)
        result.submission = Path(submission).stem
        result.seconds = time.monotonic() - started
        return result


def unpack_autograder(autograder_zip, source):
    """Extract the zip; returns ``[(question, points)]`` from its test files, in order."""
    from otter.test_files import ExceptionTestFile

    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(source)
    tests = sorted((source / "tests").glob("*.py"), key=lambda p: _natural_key(p.stem))
    return [(p.stem, float(ExceptionTestFile.from_file(str(p)).possible)) for p in tests]


def unpack_questions(autograder_zip):
    """``[(question, points)]`` of an autograder zip."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-questions-") as folder:
        return unpack_autograder(autograder_zip, Path(folder))


def load_submission(path, submission_dir):
    """Copy the submission's notebook (and a zip's other files) into ``submission_dir``."""
    if path.is_dir():  # a folder of files, as Gradescope's export has one per submission
        shutil.copytree(path, submission_dir)
        return _only_notebook(submission_dir, path.name)
    submission_dir.mkdir(parents=True)
    if not path.is_file():
        raise SubmissionError(f"{path} does not exist.")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(submission_dir)  # zipfile drops absolute paths and ".." parts
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            raise SubmissionError(f"the zip {path.name} cannot be unpacked ({error}); zip your "
                                  "notebook again without a password.") from None
        return _only_notebook(submission_dir, f"the zip {path.name}")
    target = submission_dir / (path.stem + ".ipynb")
    shutil.copy(path, target)
    return read_notebook(target, path.name)


def _only_notebook(folder, what):
    notebooks = list(folder.glob("*.ipynb"))
    if len(notebooks) != 1:
        raise SubmissionError(f"{what} holds {len(notebooks)} notebooks at its top level; it must "
                              "hold exactly one .ipynb.")
    return read_notebook(notebooks[0], notebooks[0].name)


def read_notebook(target, shown_name):
    """Read and validate a notebook; a ``SubmissionError`` says what is wrong with it."""
    if target.stat().st_size == 0:
        raise SubmissionError(f"{shown_name} is empty: submit the saved notebook (.ipynb).")
    advice = "Submit the .ipynb file saved by Jupyter, not a renamed or hand-edited file."
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
        version = raw.get("nbformat") if isinstance(raw, dict) else None
        if version != 4:
            raise SubmissionError(f"{shown_name} is not a Jupyter notebook in nbformat 4 (it says "
                                  f"nbformat {version!r}). {advice}")
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(notebook)
    except SubmissionError:
        raise
    except Exception as error:
        raise SubmissionError(f"{shown_name} is not a valid Jupyter notebook ({type(error).__name__}: "
                              f"{str(error)[:200]}). {advice}") from None
    if not any(cell.cell_type == "code" and cell.source.strip() for cell in notebook.cells):
        raise SubmissionError(f"{shown_name} has no code in it: submit the notebook with your work saved.")
    return notebook


def install_support_files(workdir):
    """As otter does: the zip's ``files/`` and ``tests/`` go next to the notebook."""
    submission, source = workdir / "submission", workdir / "source"
    for item in sorted((source / "files").iterdir()) if (source / "files").exists() else []:
        _remove(submission / item.name)
        (shutil.copytree if item.is_dir() else shutil.copy)(item, submission / item.name)
    _remove(submission / "tests")
    shutil.copytree(source / "tests", submission / "tests")


def _remove(path):
    """Remove a file, a link or a folder a submission may have put where ours must go."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class _Run:
    """One grading run: a kernel, the cells that worked so far, and the deadline."""

    def __init__(self, cwd, memory_limit, deadline, cell_time_limit, question_time_limit):
        self.kernel = LimitedKernel(cwd, memory_limit)
        self.deadline = deadline
        self.cell_time_limit = cell_time_limit
        self.question_time_limit = question_time_limit
        self.replay = [GRADING_PRELUDE]
        self.messages = []
        self.images = []
        self.kernel_ok = False

    def grade(self, notebook, questions):
        code_cells = [c.source for c in notebook.cells
                      if c.cell_type == "code" and "otter_ignore" not in c.metadata.get("tags", [])]
        results = []
        try:
            for number, source in enumerate(code_cells, 1):
                self._run_cell(number, source)
            for name, points in questions:
                results.append(self._run_question(name, points))
        finally:
            self.kernel.shutdown()
        statuses = {q.status for q in results}
        status = "ok" if statuses <= {"graded"} and not self.messages else "partial"
        return SubmissionResult("", status, results, self.messages, peak_memory=self.kernel.peak_memory,
                                images=self.images, isolation={"network_blocked": self.kernel.network_blocked,
                                                               "tasks_capped": self.kernel.tasks_capped})

    def _ensure_kernel(self):
        """Start (or restart, after a death or a timeout) the kernel and replay what worked."""
        if self.kernel_ok:
            return
        self.kernel_ok = True
        self.kernel.shutdown()
        self.kernel.start()
        for source in self.replay:
            if wait_until(self.deadline) <= 0:
                return
            outcome = self.kernel.run(source, wait_until(self.deadline))
            if outcome.status not in ("ok", "error"):
                self.messages.append(f"Replaying the notebook after a restart failed: {outcome.error}.")
                self.kernel_ok = False
                return

    def _run_cell(self, number, source):
        left = wait_until(self.deadline)
        if left <= 0:
            self.messages.append(f"Code cell {number} and later were not run: the submission used up "
                                 "its time limit.")
            return
        self._ensure_kernel()
        outcome = self.kernel.run(source, min(self.cell_time_limit, left))
        if outcome.truncated:
            self.messages.append(f"Code cell {number} printed more than {OUTPUT_LIMIT:,} characters; "
                                 "the rest of its output was dropped.")
        if outcome.status in ("ok", "error"):
            self.replay.append(source)
            self.images += [o["data"]["image/png"] for o in outcome.outputs
                            if "image/png" in o.get("data", {})][:MAX_IMAGES - len(self.images)]
            return
        self.messages.append(f"Code cell {number} {outcome.error}; it was skipped "
                             f"(it starts: {source.strip().splitlines()[0][:80] if source.strip() else ''!r}).")
        self.kernel_ok = False

    def _run_question(self, name, points):
        out_of_time = QuestionResult(name, 0.0, points, "timeout",
                                     "Not graded: the submission used up its time limit before this question.")
        if wait_until(self.deadline) <= 0:
            return out_of_time
        self._ensure_kernel()
        if wait_until(self.deadline) <= 0:
            return out_of_time
        marker = f"RNNLAB-RESULT-{secrets.token_hex(16)}:"
        limit = min(self.question_time_limit, wait_until(self.deadline))
        outcome = self.kernel.run(QUESTION_RUNNER.format(path=f"tests/{name}.py", marker=marker), limit,
                                  keep=marker)
        if outcome.status not in ("ok", "error"):
            self.kernel_ok = False
            return QuestionResult(name, 0.0, points, outcome.status,
                                  f"While checking {name}, your code {outcome.error}.")
        lines = [line for line in outcome.stdout.splitlines() if line.startswith(marker)]
        if len(lines) != 1:
            return QuestionResult(name, 0.0, points, "error",
                                  f"The checks of {name} could not run: {outcome.error or 'no result'}.")
        report = json.loads(lines[0][len(marker):])
        return QuestionResult(name, float(report["score"]), points, "graded", _feedback(report["cases"]),
                              report["cases"])


def _feedback(cases):
    lines = []
    for case in cases:
        kind = "hidden" if case["hidden"] else "public"
        if case["passed"]:
            lines.append(f"PASS {case['name']} ({kind}, {case['points']:g} pt)")
        else:
            lines.append(f"FAIL {case['name']} ({kind}, {case['points']:g} pt)\n"
                         + _indent(case["message"].replace("❌ Test case failed\n", "")))
    return "\n".join(lines)


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def _natural_key(name):
    digits = "".join(ch for ch in name if ch.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits else 0)
