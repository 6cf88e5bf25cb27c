"""A notebook checked against an autograder in one process: for authoring, never for students.

``check_in_process`` runs a submission's cells and then every question's tests, from an
unpacked autograder zip, in one forked process with no kernel, no socket, no other user and
no limit but a time-out: the same test files, checks library, lab checks, reference and
fixtures as grading, and the same verdict per case, in a fraction of the time.  An instructor
uses it to try a catalogue of buggy variants in seconds (the test suite does); ``rnnlab
verify`` and ``rnnlab grade`` put the same notebooks through the real engine, which is the
only one that may run students' code.

    python -m rnnlab.authoring.in_process AUTOGRADER_ZIP SUBMISSION... --out FOLDER

writes ``FOLDER/<submission>/results.json`` as ``rnnlab grade`` does (``rnnlab verify
--in-process`` runs it once per CPU profile).

A catalogue of variants of one notebook is checked faster still with a ``Trace`` of the
reference (``trace=True``): which notebook cells' code ran while each cell and each test case
ran.  A variant that changes one cell of definitions only, whose code no other cell ran, gets
the reference's verdict for every case that never ran that cell's code: the case runs the
same code on the same data, so it cannot end otherwise.  Every other case runs.
"""

import argparse
import ast
import importlib
import io
import multiprocessing
import os
import sys
import tempfile
import threading
import traceback
import types
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rnnlab_checks.checkpoints import SUBMISSION_VARIABLE
from rnnlab_engine.checker import PROVEN_VARIABLE, judge_case, otter_test_files, proven_functions, questions_taking
from rnnlab_engine.grading import (GRADING_PRELUDE, Autograder, SubmissionError, graded_cells, install_support_files,
                                   load_submission, unpacked)
from rnnlab_engine.kernel import thread_pinning
from rnnlab_engine.results import Case, QuestionResult, SubmissionResult, feedback_text

# A catalogue variant takes seconds; this only stops one that never ends.
TIME_OUT = 600
CELL_FILE = "<cell {}>"


@dataclass
class Trace:
    """What checking the reference ran: its graded code cells, and for each cell and each
    test case ``(question, case)`` the numbers of the cells whose code ran meanwhile; with the
    reference's verdict of each case."""

    cells: list[str]
    by_cell: dict[int, set[int]] = field(default_factory=dict)
    by_case: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], Case] = field(default_factory=dict)

    def reusable(self, cells: list[str]) -> set[tuple[str, str]]:
        """The cases whose reference verdict holds for a notebook of ``cells``: none unless
        one cell differs, only inside the bodies of the functions it defines (a cell of
        function and class definitions and imports), and no other cell ran its code; then every
        case that never ran it."""
        changed = [k for k, (a, b) in enumerate(zip(self.cells, cells), 1) if a != b]
        if len(cells) != len(self.cells) or len(changed) != 1:
            return set()
        k = changed[0]
        skeleton = _skeleton(self.cells[k - 1])
        if skeleton is None or skeleton != _skeleton(cells[k - 1]) \
                or any(k in ran for j, ran in self.by_cell.items() if j != k):
            return set()
        return {case for case, ran in self.by_case.items() if k not in ran}


def _skeleton(source: str) -> str | None:
    """A cell of definitions with every function's body left out (None for a cell that does
    anything else, such as computing data): equal skeletons differ only in what runs when a
    function is called."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None

    def blank(node: ast.stmt) -> ast.stmt | None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return type(node)(**{**vars(node), "body": [ast.Pass()]})
        if isinstance(node, ast.ClassDef):
            body = [blank(item) for item in node.body]
            return None if None in body else ast.ClassDef(**{**vars(node), "body": body})
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            return node
        return None

    body = [blank(node) for node in tree.body]
    kept = [node for node in body if node is not None]
    return ast.dump(ast.Module(body=kept, type_ignores=[])) if len(kept) == len(body) else None


class _CellsRunning:
    """The numbers of the notebook cells whose code runs within the block (``sys.setprofile``)."""

    def __enter__(self) -> set[int]:
        self.cells: set[int] = set()
        sys.setprofile(self._seen)
        threading.setprofile(self._seen)  # and in threads started meanwhile
        return self.cells

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]  # None removes it

    def _seen(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(CELL_FILE[:6]):
            self.cells.add(int(frame.f_code.co_filename[6:-1]))


def warm_up(autograder: Autograder) -> None:
    """Import here what every submission imports (numpy, matplotlib, torch where installed,
    otter's test files), so that each forked check finds it loaded: seconds per notebook.
    (The numerical libraries take their thread counts from the environment, here.)"""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in ("numpy", "matplotlib.pyplot", "torch"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    otter_test_files()
    autograder.questions  # reads every test file once


def check_in_process(autograder: Autograder, submission: Path, time_out: float = TIME_OUT,
                     reference: Trace | None = None) -> SubmissionResult:
    """Run ``submission`` (a notebook, or a folder with one and its files) and every question
    of ``autograder`` in a forked process; the verdicts as grading words them.  ``reference``:
    the ``Trace`` of the notebook this one is a variant of (see the module's docstring)."""
    result = _in_child(autograder, Path(submission), time_out, reference, False)
    assert isinstance(result, SubmissionResult)
    return result


def trace_in_process(autograder: Autograder, submission: Path, time_out: float = TIME_OUT) -> tuple[
        SubmissionResult, Trace | None]:
    """``check_in_process`` of a reference, with its ``Trace`` (None if it could not run)."""
    result = _in_child(autograder, Path(submission), time_out, None, True)
    return result if isinstance(result, tuple) else (result, None)


def _in_child(autograder: Autograder, submission: Path, time_out: float, reference: Trace | None,
              record: bool) -> Any:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_check, args=(autograder, submission, sending, reference, record))
    process.start()
    sending.close()
    try:
        outcome = receiving.recv() if receiving.poll(time_out) else f"it ran past {time_out} s"
    except EOFError:  # it died before it sent anything
        outcome = None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiving.close()
    if outcome is None:
        outcome = f"the process ended with exit code {process.exitcode}"
    if not isinstance(outcome, str):
        return outcome
    return SubmissionResult(Path(submission).stem, "error", [
        QuestionResult(name, 0.0, points, "not graded", f"Not checked: {outcome}.")
        for name, points in autograder.questions], [f"Not checked: {outcome}."])


def _check(autograder: Autograder, submission: Path, sending: Connection, reference: Trace | None,
           record: bool) -> None:
    """The forked process: cells, then questions; sends one ``SubmissionResult`` (and, to
    ``record``, its ``Trace``)."""
    os.environ["MPLBACKEND"] = "Agg"
    with tempfile.TemporaryDirectory(prefix="rnnlab-in-process-") as scratch, \
            redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        folder = Path(scratch) / "submission"
        try:
            notebook = load_submission(submission, folder)
        except SubmissionError as error:
            sending.send(SubmissionResult(submission.stem, "invalid", [
                QuestionResult(name, 0.0, points, "not graded", str(error)) for name, points in autograder.questions]))
            return
        install_support_files(autograder.source, folder)
        os.chdir(folder)
        os.environ[SUBMISSION_VARIABLE] = str(folder)
        sys.path[:0] = [str(autograder.source / "files"), str(autograder.source)]
        if "torch" in sys.modules:  # imported before the fork: as many threads as a kernel has
            sys.modules["torch"].set_num_threads(int(thread_pinning()["OMP_NUM_THREADS"]))
        cells = graded_cells(notebook)
        trace = Trace(cells) if record else None
        notebook_globals, messages = _run_cells(cells, trace)
        reusable = reference.reusable(cells) if reference else set()
        ExceptionTestFile = otter_test_files().ExceptionTestFile
        takers = questions_taking(autograder.source / "tests")
        questions: list[QuestionResult] = []
        for name, points in autograder.questions:
            os.environ[PROVEN_VARIABLE] = ",".join(proven_functions(takers, [q.name for q in questions
                                                                              if q.passed_in_full]))
            test_file = ExceptionTestFile.from_file(str(autograder.source / "tests" / f"{name}.py"))
            cases = []
            for case in test_file.test_cases:
                key = (name, case.body.test_func.__name__)
                if reference and key in reusable:
                    cases.append(reference.verdicts[key])
                elif trace:
                    with _CellsRunning() as ran:
                        cases.append(judge_case(test_file, case, notebook_globals))
                    trace.by_case[key], trace.verdicts[key] = ran, cases[-1]
                else:
                    cases.append(judge_case(test_file, case, notebook_globals))
            score = float(sum(c["points"] for c in cases if c["passed"]))
            questions.append(QuestionResult(name, score, points, "graded", feedback_text(cases), cases))
        result = SubmissionResult(submission.stem, "partial" if messages else "ok", questions, messages)
        sending.send((result, trace) if record else result)


def _run_cells(cells: list[str], trace: Trace | None) -> tuple[dict[str, Any], list[str]]:
    """Execute the notebook's graded code ``cells`` as ``__main__`` (recording what ran into
    ``trace``): ``(its globals, a message for each cell that raised)``."""
    exec(GRADING_PRELUDE, {})  # grader.check() and export() do nothing, as while grading
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    errors = []
    for number, source in enumerate(cells, 1):
        try:
            code = compile(source, CELL_FILE.format(number), "exec")
            if trace is None:
                exec(code, main.__dict__)
            else:
                with _CellsRunning() as ran:
                    try:
                        exec(code, main.__dict__)
                    finally:
                        trace.by_cell[number] = ran
        except BaseException:
            errors.append(f"Cell {number} raised: " + traceback.format_exc(limit=-1).strip().splitlines()[-1])
    return main.__dict__, errors


def main(argv: list[str] | None = None) -> int:
    """Check each submission with the zip and write its ``results.json`` under ``--out``."""
    from rnnlab.batch.reports import write_submission

    parser = argparse.ArgumentParser(prog="python -m rnnlab.authoring.in_process", description=__doc__)
    parser.add_argument("autograder", type=Path)
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    with unpacked(args.autograder) as autograder:
        warm_up(autograder)
        for submission in args.submissions:
            write_submission(args.out, check_in_process(autograder, submission))
    return 0


if __name__ == "__main__":
    sys.exit(main())
