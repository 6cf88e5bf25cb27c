"""Grade one submission against an otter autograder zip, within time and memory limits.

The zip is the single source of truth: its ``tests/`` and ``files/`` are what Gradescope
runs.  The notebook's cells run one by one in a ``LimitedKernel``; then each question's
test file runs on its own, with its own limits.  When a cell or a question hangs, crashes
the kernel or goes over the memory limit, that is written down, the kernel is restarted,
the cells that worked are replayed, and grading goes on with the next question.  The
result always comes back; nothing here raises for a bad submission.

Time is measured so that a busy machine costs no points: a cell or a question may use so
many seconds of CPU (the kernel's processes, and the checker's work for a question) and so
many seconds of wall time not counting the time those processes waited for a CPU; the
submission has a budget of both, and, where the platform kills at a fixed time
(Gradescope), a ceiling of wall time that nothing moves.
"""

import functools
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import remote
from .checker import CheckerProcess, otter_test_files
from .isolation.probe import refuse_exposed, sandbox
from .kernel import OUTPUT_LIMIT, LimitedKernel, RunLimits, Usage
from .results import ANSWER_LIMIT, MESSAGE_LIMIT, Notes, QuestionResult, SubmissionResult, bounded_case, cut, feedback_text

log = logging.getLogger(__name__)

# A submission's seconds, not counting waits for a busy CPU.  Gradescope gives a submission
# 10 minutes: there the same 540 s are also a ceiling of wall time (1 minute is kept for its
# own set-up and upload).
TIME_LIMIT = 540
# A submission's CPU seconds: 240 at Gradescope's half a CPU take 480 s, inside its ceiling,
# so that a submission that fits here fits there.  The reference labs use 15-30 s.
CPU_LIMIT = 240
# Each cell, and each question, may use as many seconds (not counting waits for a CPU) and as
# many CPU seconds.
CELL_TIME_LIMIT = 120
QUESTION_TIME_LIMIT = 120
# Where no platform sets a ceiling, the wall time a cell or a question may take, as a
# multiple of the submission's time left: generous, because each round trip between the
# kernel and the checker waits its turn on a busy machine (the char-level NumPy lab's
# q10, 28 s of CPU, took 1,596 s of wall time beside 32 busy processes on two cores).
WALL_CEILING_FACTOR = 20
MEMORY_LIMIT = 768 * 2**20
NO_KERNEL = "the kernel was restarted, and died again while the cells that worked were replayed"
# Cells with otter's tag are not run while grading (training on a whole corpus, say).
IGNORED_CELL_TAG = "otter_ignore"
# Questions answered in writing and graded by hand: listed in the zip's reference folder;
# the answers are the markdown cells otter assign tagged as answer cells.
WRITTEN_QUESTIONS = "written_questions.json"
ANSWER_CELL_TAG = "otter_answer_cell"
# The key of a written question's reference answer in that list: for the course staff's page,
# never in a result.
REFERENCE_ANSWER = "reference_answer"
# In otter's solution notebook the reference answer follows the empty answer cell.
SOLUTION_CELL_TAG = "otter_assign_solution_cell"
UNANSWERED = "_Type your answer here, replacing this text._"
# The plots a notebook draws (its loss curves) go into the feedback page: the first few,
# each at most so many characters (base64).
MAX_IMAGES = 4
IMAGE_LIMIT = 500_000

# Student notebooks call grader.check / export; while grading those are no-ops, because
# every question is run once, on its own, after the notebook.  So the kernel's ``otter`` is
# the package without its __init__, and its ``Notebook`` one whose methods do nothing: the
# real one would load pandas and nbconvert (about 70 MB of a kernel's 768) to be switched off.
GRADING_PRELUDE = """\
import importlib.util as _rnnlab_util, sys as _rnnlab_sys
class Notebook:
    def __init__(self, *args, **kwargs):
        pass
    def check(self, *args, **kwargs):
        return None
    check_all = export = check
_rnnlab_otter = _rnnlab_util.module_from_spec(_rnnlab_util.find_spec("otter"))
_rnnlab_otter.Notebook = Notebook
_rnnlab_sys.modules["otter"] = _rnnlab_otter
del Notebook, _rnnlab_util, _rnnlab_sys, _rnnlab_otter
"""

# Defines the kernel's end of the line to the checks (``remote.py``, shipped as source).
REMOTE_PRELUDE = """\
import sys as _rnnlab_sys, types as _rnnlab_types
_rnnlab_remote = _rnnlab_types.ModuleType("rnnlab_remote")
exec(compile({source!r}, "rnnlab_remote", "exec"), _rnnlab_remote.__dict__)
_rnnlab_sys.modules["rnnlab_remote"] = _rnnlab_remote
del _rnnlab_sys, _rnnlab_types, _rnnlab_remote
"""
# While a question is checked the kernel serves the notebook's globals to the checker.
SERVE_CELL = """\
__import__("sys").modules["rnnlab_remote"].serve({path!r}, __import__("sys").modules["__main__"].__dict__)
"""
# How long the checker may take to start listening, and to report after the kernel is done
# (wall seconds: on a busy machine the start alone may take a minute).
CHECKER_WAIT = 300
REPORT_WAIT = 60


# What the checks that pick a device (``rnnlab_checks.devices``) call.
DEVICE_CHECKS = "pick_device"
# Submissions one checker grades before a fresh one takes over (what a long batch leaves in a
# process's memory stays bounded).
CHECKER_SUBMISSIONS = 50
# A submission zip larger than this when unpacked is refused before it is unpacked.
MAX_ZIP_FILES = 1000
MAX_ZIP_BYTES = 200 * 2**20
# What the zip carries for the checker alone (older zips kept the reference in ``files/``).
PRIVATE_FILES = ("tests", "rnnlab_reference")


@functools.cache
def _remote_prelude(source):
    """The kernel's end of the line, from the zip in ``source``: the checker runs the zip's
    engine (its folder comes first on its path), and both ends must speak the same protocol
    even where the grader is a newer rnnlab than the one that built the zip."""
    shipped = Path(source) / "rnnlab_engine" / "remote.py"
    return REMOTE_PRELUDE.format(source=(shipped if shipped.is_file() else Path(remote.__file__)).read_text())


def check_line_protocol(source):
    """Raise ``ZipTooOld`` where the zip in ``source`` carries an engine whose kernel connects
    to the checks: the kernel may connect to nothing (its syscall filter refuses it)."""
    shipped = Path(source) / "rnnlab_engine" / "remote.py"
    if shipped.is_file() and "KERNEL_LISTENS = True" not in shipped.read_text():
        raise ZipTooOld(f"{Path(source).name}: this autograder zip was built by an older rnnlab, whose "
                        "kernel connects to the checks; build it again (rnnlab build) to grade with it here "
                        "(on Gradescope it still grades with the engine it carries)")


class ZipTooOld(Exception):
    """The autograder zip speaks a line protocol this grader no longer allows."""


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message says what to fix."""


def grade_submission(autograder_zip, submission, **limits):
    """Grade ``submission`` (.ipynb, .zip or folder) with ``autograder_zip``; never raises for
    bad input.  ``limits``: see ``Autograder.grade``."""
    with unpacked(autograder_zip) as autograder:
        return autograder.grade(submission, **limits)


@contextmanager
def unpacked(autograder_zip):
    """The zip (a path or a file object) unpacked into a folder only the grader may read, for
    as long as the context lasts: one ``Autograder`` for any number of submissions."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-autograder-") as folder:
        source = Path(folder) / "source"
        with zipfile.ZipFile(autograder_zip) as archive:
            archive.extractall(source)
        autograder = Autograder(source)
        try:
            yield autograder
        finally:
            autograder.close()


@dataclass
class Autograder:
    """An unpacked autograder zip (``source``): its tests, reference and support files, and
    the checkers that finished grading a submission cleanly, kept for the next ones (their
    imports and the reference loaded once a batch).  A checker runs no student code and keeps
    nothing of one submission that the next could reach; what a check may read without setting
    it, the global random generators (NumPy's, Python's, torch's), starts from entropy in a
    new process too, so no check relies on it."""

    source: Path
    _idle_checkers: list = field(default_factory=list, init=False, repr=False)
    _checkers_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self):
        check_line_protocol(self.source)

    def checker(self):
        """A running checker of this zip, kept from an earlier submission or new."""
        with self._checkers_lock:
            while self._idle_checkers:
                checker = self._idle_checkers.pop()
                if checker.process.poll() is None:
                    return checker
                checker.stop()
        return CheckerProcess(self.source)

    def keep(self, checker):
        """Keep ``checker``, whose last question ended cleanly, for another submission (up to
        ``CHECKER_SUBMISSIONS`` of them)."""
        checker.submissions += 1
        if checker.submissions >= CHECKER_SUBMISSIONS or checker.process.poll() is not None:
            checker.stop()
            return
        with self._checkers_lock:
            self._idle_checkers.append(checker)

    def close(self):
        """Stop the checkers kept."""
        with self._checkers_lock:
            checkers, self._idle_checkers = self._idle_checkers, []
        for checker in checkers:
            checker.stop()

    @functools.cached_property
    def questions(self):
        """``[(question, points)]`` of the test files, in order (read once)."""
        tests = sorted((self.source / "tests").glob("*.py"), key=lambda p: _natural_key(p.stem))
        return [(p.stem, float(otter_test_files().ExceptionTestFile.from_file(str(p)).possible)) for p in tests]

    @functools.cached_property
    def written_questions(self):
        """``[{"name", "points", "prompt"}]`` of the questions graded by hand."""
        listed = self.source / "rnnlab_reference" / WRITTEN_QUESTIONS
        return json.loads(listed.read_text()) if listed.exists() else []

    @functools.cached_property
    def picks_a_device(self):
        """Whether the checks run models on a device they pick (a GPU where there is one):
        they use ``rnnlab_checks.devices``."""
        checks = [*(self.source / "tests").glob("*.py"), self.source / "files" / "lab_checks.py"]
        return any(DEVICE_CHECKS in path.read_text() for path in checks if path.is_file())

    def ready(self, submission, memory_limit=MEMORY_LIMIT, start_kernel=True):
        """``submission`` made ready for ``grade``: copied into a folder of its own beside the
        zip's support files, and, with ``start_kernel``, a kernel started there (within the
        same sandbox and limits), the grading preludes run and the libraries its notebook
        imports (of ``AHEAD_IMPORTS``) loaded.  In a batch this is done while the submission
        before it grades: its kernel's start is paid ahead, out of its time.  A ``Ready``,
        to close once graded (or never graded)."""
        if start_kernel:
            refuse_exposed(sandbox(), {self.source: "the tests and the reference"})
        ready = Ready(Path(submission))
        try:
            ready.notebook = load_submission(Path(submission), ready.folder)
            install_support_files(self.source, ready.folder)
            if start_kernel:
                ready.start_kernel(self.source, memory_limit)
        except SubmissionError as error:
            ready.error = error
        except BaseException:
            ready.close()
            raise
        return ready

    def grade(self, submission, time_limit=TIME_LIMIT, memory_limit=MEMORY_LIMIT, cpu_limit=CPU_LIMIT,
              cell_time_limit=CELL_TIME_LIMIT, question_time_limit=QUESTION_TIME_LIMIT, wall_limit=None,
              checker_counts=False, ready=None):
        """Grade one submission; never raises for bad input, and raises ``IsolationError``
        where this machine cannot keep student code in its place (``isolation.probe``).  Time
        limits are in seconds not counting waits for a busy CPU (each cell and question may use
        as many CPU seconds); ``wall_limit``: a ceiling of wall time for the whole submission,
        where the platform kills at a fixed time.  ``checker_counts``: the checker's memory
        counts against ``memory_limit`` too (one container for both, as on Gradescope).
        ``ready``: what ``ready(submission, memory_limit)`` made of it ahead (closed here)."""
        started = time.monotonic()
        try:
            refuse_exposed(sandbox(), {self.source: "the tests and the reference"})
        except BaseException:
            if ready is not None:
                ready.close()
            raise
        budget = Budget(time_limit, cpu_limit, wall_limit)
        questions = self.questions
        if ready is None or ready.submission != Path(submission):
            if ready is not None:
                ready.close()
            ready = self.ready(submission, memory_limit, start_kernel=False)
        with ready:
            if ready.error is not None:
                result = SubmissionResult("", "invalid", [
                    QuestionResult(name, 0.0, points, "not graded", str(ready.error)) for name, points in questions],
                    [f"Not graded: {ready.error}"])
            else:
                grader = _Run(self, ready.folder, memory_limit, budget, cell_time_limit, question_time_limit,
                              checker_counts, ready.take_kernel())
                try:
                    result = grader.grade(ready.notebook, questions)
                finally:
                    grader.kernel.close()  # its user is free only once nothing of this submission is left
                result.written = written_answers(ready.notebook, self.written_questions)
        result.submission = Path(submission).stem
        result.seconds = time.monotonic() - started
        result.cpu_seconds, result.waited_seconds = budget.cpu, budget.waited
        log.info("%s: %g/%g, %s, in %.0f s", result.submission, result.score, result.possible, result.status,
                 result.seconds)
        return result


@dataclass
class Budget:
    """A submission's time: ``time_limit`` seconds not counting the waits for a busy CPU
    measured while its code ran, ``cpu_limit`` CPU seconds, and ``wall_limit`` seconds of
    wall time in all where the platform kills at a fixed time (None elsewhere)."""

    time_limit: float
    cpu_limit: float
    wall_limit: float | None = None
    started: float = field(default_factory=time.monotonic)
    cpu: float = 0.0
    waited: float = 0.0
    wall_in_code: float = 0.0
    time_in_code: float = 0.0

    def spend(self, usage: Usage):
        """Count what a piece of code used."""
        self.cpu += usage.cpu
        self.waited += usage.waited
        self.wall_in_code += usage.wall
        self.time_in_code += usage.time

    def time_left(self):
        """Seconds left, never negative: the time of the code run so far, and the wall time of
        everything else (starting kernels and the checker); none once the CPU time is spent."""
        if self.cpu >= self.cpu_limit:
            return 0.0
        elapsed = time.monotonic() - self.started
        left = self.time_limit - (elapsed - self.wall_in_code + self.time_in_code)
        if self.wall_limit is not None:
            left = min(left, self.wall_limit - elapsed)
        return max(0.0, left)

    def wall_left(self, wait):
        """``wait`` seconds, or less where the wall ceiling comes first."""
        if self.wall_limit is None:
            return wait
        return max(1.0, min(wait, self.wall_limit - (time.monotonic() - self.started)))

    def limits(self, per_run, counted=()):
        """The ``RunLimits`` of the next piece of code: ``per_run`` seconds of time and of CPU,
        or what is left of the submission's, and the wall ceiling."""
        time_left = self.time_left()
        if self.wall_limit is None:
            wall = WALL_CEILING_FACTOR * time_left
        else:
            wall = self.wall_limit - (time.monotonic() - self.started)
        return RunLimits(cpu=max(0.0, min(per_run, self.cpu_limit - self.cpu)), time=min(per_run, time_left),
                         wall=max(1.0, wall), counted=tuple(counted))


# Libraries a kernel started ahead loads when the notebook imports them: seconds each (torch's
# import is most of a kernel's start), and nothing a notebook could tell from its own import.
AHEAD_IMPORTS = ("numpy", "matplotlib", "matplotlib.pyplot", "torch")


class Ready:
    """A submission made ready to grade (``Autograder.ready``): ``folder``, its copy beside the
    support files, in a temporary folder of its own; ``notebook``, or ``error`` where it is no
    notebook to grade; and a kernel started there ahead, until ``take_kernel`` hands it on."""

    def __init__(self, submission):
        self.submission = submission
        self._workdir = tempfile.TemporaryDirectory(prefix="rnnlab-grade-")
        os.chmod(self._workdir.name, 0o711)  # the kernel's user may pass through to its own folder only
        self.folder = Path(self._workdir.name) / "submission"
        self.notebook = None
        self.error = None
        self._kernel = None

    def start_kernel(self, source, memory_limit):
        """Start the kernel ahead; where anything fails, ``grade`` starts one as it would have."""
        kernel = LimitedKernel(self.folder, memory_limit)
        try:
            kernel.start()
            imported = sorted(imported_modules(graded_cells(self.notebook)) & set(AHEAD_IMPORTS))
            ahead = f"import importlib as _rnnlab_importlib\nfor _rnnlab_name in {imported!r}:\n" \
                    "    _rnnlab_importlib.import_module(_rnnlab_name)\ndel _rnnlab_importlib, _rnnlab_name\n"
            limits = RunLimits(cpu=CELL_TIME_LIMIT, time=CELL_TIME_LIMIT, wall=WALL_CEILING_FACTOR * CELL_TIME_LIMIT)
            for code in (GRADING_PRELUDE, _remote_prelude(source), ahead):
                if kernel.run(code, limits).status != "ok":
                    raise RuntimeError("a kernel started ahead failed to run the grading preludes")
        except Exception:
            log.warning("%s: no kernel started ahead", self.submission, exc_info=True)
            kernel.close()
            return
        self._kernel = kernel

    def take_kernel(self):
        """The kernel started ahead (None if there is none): the taker closes it."""
        kernel, self._kernel = self._kernel, None
        return kernel

    def close(self):
        """Stop a kernel nobody took, and remove the folder."""
        kernel = self.take_kernel()
        if kernel is not None:
            kernel.close()
        self._workdir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def imported_modules(sources):
    """The modules that the ``import`` statements of ``sources`` (code) name, and their parents
    (``matplotlib.pyplot`` gives ``matplotlib`` too); code that does not parse names none."""
    import ast

    names = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue  # IPython syntax (%magic) or a broken cell: nothing to load ahead for it
        for node in ast.walk(tree):
            found = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in found:
                parts = name.split(".")
                names.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return names


def load_submission(path, submission_dir):
    """Copy the submission's notebook (and a zip's other files) into ``submission_dir``."""
    if path.is_dir():  # a folder of files, as Gradescope's export has one per submission
        shutil.copytree(path, submission_dir, symlinks=True)  # a link is copied as a link, never followed
        links = [p.relative_to(submission_dir) for p in submission_dir.rglob("*") if p.is_symlink()]
        if links:
            raise SubmissionError(f"{path.name} holds symbolic links ({', '.join(map(str, links[:3]))}); "
                                  "submit the files themselves.")
        return only_notebook(submission_dir, path.name)
    submission_dir.mkdir(parents=True)
    if not path.is_file():
        raise SubmissionError(f"{path} does not exist.")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.infolist()
                size = sum(m.file_size for m in members)
                if len(members) > MAX_ZIP_FILES or size > MAX_ZIP_BYTES:
                    raise SubmissionError(
                        f"the zip {path.name} unpacks to {len(members)} files and {size / 2**20:.0f} MB; "
                        f"a submission may hold at most {MAX_ZIP_FILES} files and "
                        f"{MAX_ZIP_BYTES // 2**20} MB: submit the notebook and what it needs.")
                archive.extractall(submission_dir)  # zipfile drops absolute paths and ".." parts
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            raise SubmissionError(f"the zip {path.name} cannot be unpacked ({error}); zip your "
                                  "notebook again without a password.") from None
        return only_notebook(submission_dir, f"the zip {path.name}")
    target = submission_dir / (path.stem + ".ipynb")
    shutil.copy(path, target)
    return read_notebook(target, path.name)


def only_notebook(folder, what):
    """The one notebook at the top of ``folder`` (``what``: how a message names the folder),
    read and validated; a ``SubmissionError`` says what is wrong."""
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


def written_answers(notebook, written_questions):
    """Each question graded by hand with the student's answer: the answer cells (markdown,
    tagged by otter assign) in the order of the questions; "" where none was written."""
    cells = []
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", []) if cell.cell_type == "markdown" else []
        if ANSWER_CELL_TAG in tags:
            cells.append(cell.source.strip())
        elif SOLUTION_CELL_TAG in tags and cells and cells[-1] == UNANSWERED:
            cells[-1] = cell.source.strip()
    return [{**{k: v for k, v in question.items() if k != REFERENCE_ANSWER},
             "answer": cut(answer, ANSWER_LIMIT) if answer != UNANSWERED else ""}
            for question, answer in zip(written_questions, cells + [""] * len(written_questions))]


def graded_cells(notebook):
    """The sources of the code cells that grading runs, in order (not those tagged
    ``IGNORED_CELL_TAG``)."""
    return [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and IGNORED_CELL_TAG not in cell.metadata.get("tags", [])]


def install_support_files(source, submission):
    """As otter does, the zip's ``files/`` go next to the notebook; the tests and the
    reference do not: they stay with the checker, out of the student's reach."""
    for item in sorted((source / "files").iterdir()) if (source / "files").exists() else []:
        if item.name in PRIVATE_FILES:
            continue
        _remove(submission / item.name)
        (shutil.copytree if item.is_dir() else shutil.copy)(item, submission / item.name)
    for name in PRIVATE_FILES:
        _remove(submission / name)


def _remove(path):
    """Remove a file, a link or a folder a submission may have put where ours must go."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class _Run:
    """One grading run: a kernel, a checker, the cells that worked so far, and the budget."""

    def __init__(self, autograder, cwd, memory_limit, budget, cell_time_limit, question_time_limit, checker_counts,
                 kernel=None):
        self.autograder = autograder
        self.checker_counts = checker_counts
        # A kernel started ahead has run the preludes (``replay``'s first entries) already.
        self.kernel = kernel or LimitedKernel(cwd, memory_limit)
        self.checker = None
        self.budget = budget
        self.cell_time_limit = cell_time_limit
        self.question_time_limit = question_time_limit
        self.replay = [GRADING_PRELUDE, _remote_prelude(autograder.source)]
        self.notes = Notes()
        self.images = []
        self.dropped, self.dropped_cells = {}, []  # output dropped from cells: characters by kind, and where
        self.kernel_ok = kernel is not None

    def grade(self, notebook, questions):
        results = []
        try:
            cells = graded_cells(notebook)
            for number, source in enumerate(cells, 1):
                if self.budget.time_left() <= 0:
                    self.notes.add("{cells} {was} not run: the submission used up its time (or CPU time).",
                                   range(number, len(cells) + 1))
                    break
                self._run_cell(number, source)
            self._note_dropped("{cells} showed" + (" each" if len(self.dropped_cells) > 1 else ""),
                               self.dropped, self.dropped_cells)
            for name, points in questions:
                results.append(self._run_question(name, points, [q.name for q in results if q.passed_in_full]))
            if self.checker is not None:  # its last question ended cleanly
                self.autograder.keep(self.checker)
                self.checker = None
        finally:
            self.kernel.shutdown()
            self._stop_checker()
        statuses = {q.status for q in results}
        status = "ok" if statuses <= {"graded"} and not self.notes else "partial"
        return SubmissionResult("", status, results, self.notes.lines(), peak_memory=self.kernel.peak_memory,
                                images=self.images, isolation=self.kernel.isolation())

    def _run(self, source, per_run, counted=()):
        """Run ``source`` in the kernel within the budget; what it used is spent."""
        outcome = self.kernel.run(source, self.budget.limits(per_run, counted))
        self.budget.spend(outcome.usage)
        return outcome

    def _ensure_kernel(self):
        """Start (or restart, after a death or a timeout) the kernel and replay what worked."""
        if self.kernel_ok:
            return
        self.kernel_ok = True
        self.kernel.shutdown()
        log.debug("starting the kernel and replaying %d cells", len(self.replay))
        self.kernel.start()
        for source in self.replay:
            if self.budget.time_left() <= 0:
                return
            outcome = self._run(source, self.cell_time_limit)
            if outcome.status not in ("ok", "error"):
                if self.budget.time_left() > 0:  # out of time, it is what the questions left will say
                    self.notes.add(f"Replaying the notebook after a restart failed: {outcome.error}.")
                self.kernel_ok = False
                return

    def _stop_checker(self):
        if self.checker is not None:
            self.checker.stop()
            self.checker = None

    def _run_cell(self, number, source):
        self._ensure_kernel()
        if not self.kernel_ok:
            self.notes.add(f"{{cells}} {{was}} not run: {NO_KERNEL}.", [number])
            return
        outcome = self._run(source, self.cell_time_limit)
        log.debug("cell %d: %s (%.1f s CPU, %.1f s)", number, outcome.status, outcome.usage.cpu, outcome.usage.wall)
        if outcome.dropped:
            self.dropped_cells.append(number)
            for kind, chars in outcome.dropped.items():
                self.dropped[kind] = self.dropped.get(kind, 0) + chars
        if outcome.status in ("ok", "error"):
            self.replay.append(source)
            pictures = [o.get("data", {}).get("image/png", "") for o in outcome.outputs]
            self.images += [p for p in pictures if 0 < len(p) <= IMAGE_LIMIT][:MAX_IMAGES - len(self.images)]
            return
        self.notes.add(f"{{cells}} {outcome.error}; it was skipped "
                       f"(it starts: {source.strip().splitlines()[0][:80] if source.strip() else ''!r}).", [number])
        self.kernel_ok = False

    def _note_dropped(self, what, dropped, cells=()):
        """Say what of the output ``what`` showed was dropped: ``dropped`` characters by kind."""
        if dropped:
            kinds = ", ".join(f"{chars:,} characters of {kind}" for kind, chars in sorted(dropped.items()))
            self.notes.add(f"{what} more than {OUTPUT_LIMIT:,} characters of output; dropped: {kinds}.", cells)

    def _run_question(self, name, points, passed):
        """Check question ``name``, after the questions ``passed`` passed in full: its
        ``QuestionResult``.  A timeout costs this question alone: the next one starts a fresh
        kernel with what is left of the time."""
        out_of_time = QuestionResult(name, 0.0, points, "timeout",
                                     "Not graded: the submission used up its time (or CPU time) before this question.")
        if self.budget.time_left() <= 0:
            return out_of_time
        self._ensure_kernel()
        if self.budget.time_left() <= 0:
            return out_of_time
        if not self.kernel_ok:
            return QuestionResult(name, 0.0, points, "died", f"Not graded: {NO_KERNEL}.")
        if self.checker is None:
            self.checker = self.autograder.checker()
            if self.checker_counts:
                self.kernel.companions = [self.checker.process.pid]
        path = self.kernel.socket_path(name)
        limits = self.budget.limits(self.question_time_limit)
        # The checker waits for the kernel as long as the wall ceiling: the limits that count
        # are the kernel's, enforced on this side.
        listening = self.checker.send({"question": name, "socket": path, "wait": limits.wall,
                                       "submission": self.kernel.folder, "pid": self.kernel.pid,
                                       "passed": passed}) and \
            self.checker.receive(self.budget.wall_left(CHECKER_WAIT))
        if not listening or "listening" not in listening:
            self._stop_checker()
            return QuestionResult(name, 0.0, points, "error", f"The checks of {name} could not start.")
        outcome = self._run(SERVE_CELL.format(path=path), self.question_time_limit, [self.checker.process.pid])
        finished = outcome.status in ("ok", "error")
        # The checker writes its verdict as soon as it lets the kernel go; when the kernel's
        # side failed (or never connected) there is little or nothing to wait for.
        report = self.checker.receive(self.budget.wall_left(REPORT_WAIT) if outcome.status == "ok" else 1)
        if not finished or report is None or report.get("gone") or report.get("error"):
            self._stop_checker()  # it may still be waiting for a kernel that is gone
        cases = [bounded_case(c) for c in (report.get("cases", []) if report else [])]
        self._note_dropped(f"While {name} was checked, your code showed", outcome.dropped)
        score = float(sum(c["points"] for c in cases if c["passed"]))
        usage = {"cpu_seconds": round(outcome.usage.cpu, 2), "wall_seconds": round(outcome.usage.wall, 2),
                 "waited_seconds": round(outcome.usage.waited, 2)}
        if not finished:
            self.kernel_ok = False
            return QuestionResult(name, score, points, outcome.status,
                                  f"While checking {name}, your code {outcome.error}.\n" + feedback_text(cases),
                                  cases, **usage)
        if not cases or report.get("gone") or report.get("error"):
            problem = cut(str((report or {}).get("error") or (report or {}).get("gone") or outcome.error or "no result"),
                          MESSAGE_LIMIT)
            return QuestionResult(name, score, points, "error",
                                  f"The checks of {name} could not run: {problem}.", cases, **usage)
        return QuestionResult(name, score, points, "graded", feedback_text(cases), cases, **usage)


def _natural_key(name):
    digits = "".join(ch for ch in name if ch.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits else 0)
