"""Grade many submissions: collect them, grade in parallel, resume, write every report.

Submissions come as files (.ipynb or .zip), a folder holding one notebook and the files it
hands in, folders of those, or Gradescope's
"Export Submissions" zip (``submission_metadata.yml`` plus one ``submission_<id>/`` folder
per submission).  Each result is written atomically as soon as it exists; a submission
whose ``results.json`` records the same fingerprint (its content and the autograder's) is
not graded again.  A result that a new grading replaces (another zip, changed content, or
the grader's own failure) is kept in the submission's ``history/`` first (see ``history``).
"""

import fcntl
import hashlib
import logging
import socket
import threading
import zipfile
from contextlib import closing, contextmanager
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import yaml
from setproctitle import setproctitle
from tqdm import tqdm

from rnnlab_engine import grading, results
from rnnlab_engine.isolation.probe import refuse_exposed, sandbox

from ..authoring.labs import ROOT
from . import gradebooks, history, manual, reports
from .csvfiles import InputFileError

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
# Held while a batch writes into its output folder (``writing_alone``).
LOCK_FILE = ".rnnlab-grading.lock"
# What a checkout of rnnlab holds that students must not read.
CHECKOUT_SECRETS = {"solutions": "the reference solutions", "assignments": "the labs' hidden tests",
                    "tests": "the test suite", ".git": "the history of all of them", "dist": "the built autograder zips"}

log = logging.getLogger(__name__)


@dataclass
class Submission:
    """One thing to grade, with who handed it in (from Gradescope's export, or a roster:
    Canvas's ids and section from a roster only)."""

    id: str
    path: Path
    name: str = ""
    email: str = ""
    sid: str = ""
    canvas_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    def student(self):
        """Who handed it in, as a result records it: name, email and sid always, Canvas's
        ids and section where known (so that a batch without a roster records what it did)."""
        extra = {key: getattr(self, key) for key in ("canvas_id", "sis_login_id", "section") if getattr(self, key)}
        return {"name": self.name, "email": self.email, "sid": self.sid, **extra}

    def fingerprint(self, autograder_hash):
        """Hash of the submission's files and of the autograder: equal means already graded."""
        digest = hashlib.sha256(autograder_hash.encode())
        files = sorted(p for p in self.path.rglob("*") if p.is_file()) if self.path.is_dir() else [self.path]
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        return digest.hexdigest()


def collect(paths, unpack_dir):
    """The submissions in ``paths``; Gradescope exports are unpacked into ``unpack_dir``."""
    found = []
    for path in map(Path, paths):
        if path.is_dir() and is_one_submission(path):
            found.append(Submission(path.name, path))
        elif path.is_dir():
            found += [Submission(p.stem if p.is_file() else p.name, p) for p in sorted(path.iterdir())
                      if (p.is_file() and p.suffix in SUBMISSION_SUFFIXES) or (p.is_dir() and is_one_submission(p))]
        elif path.suffix == ".zip" and is_gradescope_export(path):
            found += gradescope_export(path, Path(unpack_dir) / path.stem)
        else:
            found.append(Submission(path.stem, path))
    ids = [s.id for s in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"several submissions are named {duplicates}; rename them apart")
    return found


def is_one_submission(folder):
    """Whether ``folder`` is one submission: one notebook with the files it hands in
    (checkpoints), no zip, and no folder of notebooks beside it (Jupyter's hidden
    ``.ipynb_checkpoints`` aside); anything else with notebooks is a folder of submissions."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    files = [p for p in entries if p.is_file()]
    return (sum(p.suffix == ".ipynb" for p in files) == 1 and not any(p.suffix == ".zip" for p in files)
            and not any(p.is_dir() and any(p.glob("*.ipynb")) for p in entries))


def is_gradescope_export(path):
    """Whether a zip is Gradescope's export: it holds a ``submission_metadata.yml``."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(Path(n).name == "submission_metadata.yml" for n in archive.namelist())
    except zipfile.BadZipFile:
        return False  # graded as one submission, whose result will say it cannot be unpacked


def gradescope_export(path, target):
    """One ``Submission`` per ``submission_<id>/`` folder, with the submitters' details."""
    with zipfile.ZipFile(path) as archive:
        archive.extractall(target)
    metadata_file = next(target.rglob("submission_metadata.yml"))
    metadata = yaml.safe_load(metadata_file.read_text()) or {}
    submissions = []
    for folder in sorted(p for p in metadata_file.parent.iterdir() if p.is_dir()):
        entry = _without_colons(metadata.get(folder.name) or {})
        person = _without_colons((entry.get("submitters") or [{}])[0])
        submissions.append(Submission(folder.name, folder, str(person.get("name", "")),
                                      str(person.get("email", "")), str(person.get("sid", ""))))
    return submissions


def _without_colons(mapping):
    """Gradescope writes Ruby-style keys (``:name:``); YAML reads them as ``:name``."""
    return {str(key).strip(":"): value for key, value in mapping.items()}


def grade_all(autograder_zip, submissions, out, jobs=1, progress=True, manual_scores=None, scheduler=None, **limits):
    """Grade ``submissions`` with ``jobs`` in parallel, or as tasks on the Dask cluster whose
    scheduler is at ``scheduler`` (see ``cluster``); returns results in input order.

    Every result, graded now or before, gets who handed it in and the scores given by hand
    (``manual_scores``: ``{submission: {question: score}}``, see ``manual``); the stored
    ``results.json`` of one graded before is rewritten where that changes it, and nothing is
    graded again for it.  Each result graded now records the zip's SHA-256 and when it was
    graded; the result it replaces goes to the submission's history first, and what that one
    was given rather than graded is kept (``carry_over``)."""
    if not scheduler:  # a worker of a cluster checks its own machine
        keep_out_of_reach(autograder_zip, [s.path for s in submissions])
    hide_from_kernels(f"rnnlab grading {len(submissions)} submissions with {Path(autograder_zip).name}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # grades, names and emails: for the grader only
    with writing_alone(out):
        return _grade_into(autograder_zip, submissions, out, jobs, progress, manual_scores, scheduler, limits)


@contextmanager
def writing_alone(out):
    """Hold ``out`` for this batch alone: a second ``rnnlab grade`` into the same folder
    would archive and write the same results at once, so it stops with one line instead."""
    with open(out / LOCK_FILE, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputFileError(f"{out}: another rnnlab grade is writing there; wait for it to end, or give "
                                 "another --out") from None
        yield


def _grade_into(autograder_zip, submissions, out, jobs, progress, manual_scores, scheduler, limits):
    """``grade_all``'s work, with ``out`` held."""
    autograder_hash = hashlib.sha256(Path(autograder_zip).read_bytes()).hexdigest()
    fingerprints = {s.id: s.fingerprint(autograder_hash) for s in submissions}
    results = {s.id: r for s in submissions if (r := previous_result(out, s.id, fingerprints[s.id]))}
    pending = [s for s in submissions if s.id not in results]
    by_id = {s.id: s for s in submissions}
    with grading.unpacked(autograder_zip) as autograder, \
            tqdm(total=len(submissions), initial=len(results), disable=not progress, unit="submission") as bar:
        written = autograder.written_questions
        for submission_id, result in results.items():
            recorded = bool(result.autograder)
            result.autograder = autograder_hash  # its fingerprint says so, where it was not recorded yet
            if add_student_and_scores(result, by_id[submission_id], manual_scores, written) or not recorded:
                reports.write_results_json(out, result)
        if scheduler:
            from .cluster import grade_on_cluster  # needs Dask's distributed, for this alone

            graded = grade_on_cluster(scheduler, autograder_zip, autograder_hash, autograder, pending, fingerprints,
                                      limits)
        else:
            graded = _grade_here(autograder, pending, fingerprints, jobs, limits)
        with closing(graded):  # on an error or Ctrl-C: the running finish, the rest are dropped
            for result in graded:
                result.autograder, result.graded_at = autograder_hash, history.utc_now()
                earlier = history.archive(out / result.submission)
                if earlier is not None:
                    carry_over(result, earlier)
                add_student_and_scores(result, by_id[result.submission], manual_scores, written)
                results[result.submission] = result
                reports.write_submission(out, result)
                gradebooks.write_gradebook(out, [results[s.id] for s in submissions if s.id in results])
                bar.update()
    ordered = [results[s.id] for s in submissions]
    gradebooks.write_gradebook(out, ordered)
    return ordered


def keep_out_of_reach(autograder_zip=None, paths=()):
    """Raise ``IsolationError`` (one line: what is exposed, how to fix it) where this machine
    keeps kernels to the file permissions alone and other users (as the kernels are) could read
    the zip, the submissions ``paths`` (files, folders, exports; a file's folder for the names
    beside it) or a checkout's secrets."""
    secrets = {Path(autograder_zip): "the tests and the reference"} if autograder_zip else {}
    for path in map(Path, paths):
        secrets[path] = "submissions"
        if path.is_file():
            secrets.setdefault(path.parent, "the names of the submissions in it")
    if (ROOT / ".git").exists():
        secrets.update({ROOT / name: what for name, what in CHECKOUT_SECRETS.items() if (ROOT / name).exists()})
    box = sandbox()
    if not box.allow_listed:
        refuse_exposed(box, secrets)


def hide_from_kernels(title):
    """Keep the submissions' names out of what a kernel may read of this process: its command
    line, which every user may read in ``/proc``, becomes ``title``.  (Its environment, open
    files and memory are closed to a kernel already: another user's, or a Landlock sandbox's.)"""
    setproctitle(title)


def _grade_here(autograder, submissions, fingerprints, jobs, limits):
    """Yield the result of each of ``submissions`` as it is graded, ``jobs`` at a time.  Each
    one is made ready (``Autograder.ready``: its kernel started, its libraries imported) while
    the ones before it grade, by the thread that then grades it: a kernel's client answers
    fastest in the thread that started it (its event loop)."""
    jobs = max(1, jobs)
    pool, grading_slots = ThreadPoolExecutor(2 * jobs), threading.Semaphore(jobs)
    memory_limit = limits.get("memory_limit", grading.MEMORY_LIMIT)

    def ready_then_grade(submission):
        try:
            ready = autograder.ready(submission.path, memory_limit)
        except Exception:  # grade starts the kernel itself, and says what fails
            log.warning("%s: not made ready ahead", submission.id, exc_info=True)
            ready = None
        with grading_slots:
            return grade_one(autograder, submission, fingerprints[submission.id], ready=ready, **limits)

    try:
        futures = [pool.submit(ready_then_grade, s) for s in submissions]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: finish the running, drop the rest


def add_student_and_scores(result, submission, manual_scores, written_questions):
    """Give ``result`` who handed ``submission`` in (what is known now over what was stored)
    and its scores given by hand; returns whether its ``results.json`` changes."""
    before = result.to_gradescope()
    result.student = {**result.student, **{key: value for key, value in submission.student().items() if value}}
    manual.merge_scores(result, (manual_scores or {}).get(submission.id, {}), written_questions)
    return result.to_gradescope() != before


def carry_over(result, earlier):
    """Keep in ``result``, a new grading of a submission, what the result it replaces
    (``earlier``) was given rather than graded: who handed it in, where the grading knows less
    (a regrade without the roster), and the scores given by hand to written answers that are
    word for word the same (``manual.keep_scores``), lest a regrade change a total by
    forgetting them."""
    result.student = {**earlier.student, **{key: value for key, value in result.student.items() if value}}
    manual.keep_scores(result, earlier)


def grade_one(autograder, submission, fingerprint, grader=None, ready=None, **limits):
    """Grade one submission and label it; an internal error becomes a result, not a crash.
    ``grader``: what the result says graded it (default: this machine's name); ``ready``: what
    ``Autograder.ready`` made of it ahead."""
    try:
        result = autograder.grade(submission.path, ready=ready, **limits)
    except Exception as error:  # a bug of ours must not stop the batch
        log.exception("%s: the grader failed", submission.id)
        return error_result(autograder, submission, fingerprint,
                            f"rnnlab failed to grade this submission ({type(error).__name__}: {error})")
    result.grader = grader or socket.gethostname()
    return _labelled(result, submission, fingerprint)


def error_result(autograder, submission, fingerprint, problem):
    """The result of a submission that could not be graded for a reason of ours (``problem``),
    not of its own: graded again by the next run."""
    return _labelled(results.SubmissionResult("", "error", [
        results.QuestionResult(name, 0.0, points, "not graded", "") for name, points in autograder.questions],
        [f"{problem}; grade it again, or report it."]), submission, fingerprint)


def _labelled(result, submission, fingerprint):
    """``result`` with the submission's id, who handed it in and its fingerprint."""
    result.submission = submission.id
    result.student = submission.student()
    result.fingerprint = fingerprint
    return result


def previous_result(out, submission_id, fingerprint):
    """The stored result of this very submission and autograder (same fingerprint), or None."""
    stored = history.stored_result(Path(out) / submission_id)
    return stored if stored and stored.fingerprint == fingerprint and stored.status != "error" else None


