"""A regrade that shows what changed: every result that a new grading replaces is kept in the
submission's history, and each submission's result is compared with its latest earlier one
graded with another autograder zip.

``OUT/<id>/history/<N>-<when>/`` holds a replaced ``results.json``, ``feedback.html`` and
``plot-*.png`` as they were: N counts from 1 in the order they were replaced, ``when`` is when
that result was graded (UTC, ``2026-12-08T01-02-03``; for a result stored before rnnlab
recorded it, when its file was written).  An entry is copied into a hidden folder of
``history/`` and then renamed into place, before the new result is written over the old one:
a crash at any point leaves the earlier result in the submission's folder, in its history, or
in both, never in neither; and a result found archived already is not archived twice.

``OUT/regrade.csv`` has one row per question whose points changed between a submission's
current result and its baseline: the latest earlier result graded with another zip (a
regrade), not merely the result before this run, so that running the same command again
writes the same file.  A resubmission graded with the same zip is no regrade; one graded
after a regrade is compared with the result before the regrade.  A result the grader failed
on (status "error") is no grade and is compared with nothing; a result stored before rnnlab
recorded its zip counts as another zip's.
"""

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rnnlab_engine.results import SubmissionResult, cut

from .manual import totals
from .reports import write_atomically

HISTORY = "history"
REGRADE_CSV = "regrade.csv"
REGRADE_COLUMNS = ("submission", "name", "email", "sid", "question", "old_points", "new_points", "possible",
                   "old_total", "new_total", "message")
# A failure message in regrade.csv stays one readable cell.
MESSAGE_LIMIT = 1_000
_ENTRY = re.compile(r"(\d+)-")


@dataclass
class QuestionChange:
    """One question whose points a regrade changed; ``old`` is None for a question the new zip
    added, ``new`` for one it removed.  ``message``: why it now loses points, where it does."""

    question: str
    old: float | None
    new: float | None
    possible: float
    message: str = ""


@dataclass
class Change:
    """A submission whose score a regrade changed: its totals as the gradebooks count them
    (scores given by hand included) and the questions that changed."""

    submission: str
    student: dict[str, str]
    old_total: float
    new_total: float
    questions: list[QuestionChange]


@dataclass
class Regrade:
    """What a regrade changed: ``compared`` submissions had a result from another zip, and
    ``changes`` lists those whose score changed, in the batch's order."""

    compared: int
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> set[str]:
        """The ids of the submissions whose score changed."""
        return {change.submission for change in self.changes}


def utc_now():
    """This moment in ISO 8601, UTC, to the second: when a result was graded."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def archive(folder):
    """Keep the result stored in the submission ``folder`` in its history, before a new
    grading replaces it; returns that earlier result (None where there is none, or it cannot
    be read: it is archived all the same)."""
    folder = Path(folder)
    try:
        stored = (folder / "results.json").read_bytes()
    except FileNotFoundError:
        return None
    earlier, kept = _parsed(stored), entries(folder)
    # Found archived already: the run that archived it stopped before writing the new result.
    if not kept or _read_bytes(kept[-1] / "results.json") != stored:
        number = _number(kept[-1]) + 1 if kept else 1
        when = _when(earlier.graded_at if earlier else "", folder / "results.json")
        _copy_into_history(folder, stored, f"{number}-{when}")
    return earlier


def _copy_into_history(folder, stored, name):
    """Copy the submission's files into ``history/<name>`` through a hidden folder renamed into
    place, so that the entry is whole or absent."""
    history = folder / HISTORY
    history.mkdir(exist_ok=True)
    for stale in history.glob(".*"):  # a copy a crash left unfinished (one batch writes a folder at a time)
        shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(dir=history, prefix=f".{name}."))
    for path in sorted(folder.glob("plot-*.png")) + [folder / "feedback.html"]:
        if path.is_file():
            shutil.copy2(path, partial / path.name)
    (partial / "results.json").write_bytes(stored)
    os.rename(partial, history / name)


def entries(folder):
    """The history entries of the submission ``folder``, oldest first."""
    history = Path(folder) / HISTORY
    found = [p for p in history.iterdir() if p.is_dir() and _ENTRY.match(p.name)] if history.is_dir() else []
    return sorted(found, key=_number)


def _number(entry):
    """N of the history entry ``N-<when>``: numbers sort as numbers (10 after 9)."""
    return int(entry.name.split("-", 1)[0])


def earlier_results(folder):
    """The results kept in the history of the submission ``folder``, oldest first (an entry
    that cannot be read is left out)."""
    return [result for entry in entries(folder) if (result := _parsed(_read_bytes(entry / "results.json")))]


def baseline(out, result):
    """The result that ``result`` is compared with: the latest earlier one of its submission
    graded with another autograder zip that is a grade (not "error"); None where there is
    none."""
    if result.status == "error" or not result.autograder:
        return None
    for earlier in reversed(earlier_results(Path(out) / result.submission)):
        if earlier.autograder != result.autograder and earlier.status != "error":
            return earlier
    return None


def compare(old, new):
    """The questions whose points differ between the results ``old`` and ``new``: in
    ``new``'s order, then those only ``old`` has."""
    before, after = {q.name: q for q in old.questions}, {q.name: q for q in new.questions}
    names = list(after) + [name for name in before if name not in after]
    changed = []
    for name in names:
        was, now = before.get(name), after.get(name)
        if was and now and math.isclose(was.score, now.score, abs_tol=1e-9):
            continue
        changed.append(QuestionChange(name, was.score if was else None, now.score if now else None,
                                      (now or was).possible,
                                      failure_message(now) if now and now.score < now.possible else ""))
    return changed


def compare_written(old, new):
    """The written questions whose score given by hand differs between ``old`` and ``new``
    (a new zip that changed a question's points drops the score given to the old one)."""
    before = {w["name"]: w for w in old.written}
    after = {w["name"]: w for w in new.written}
    changed = []
    for name in list(after) + [name for name in before if name not in after]:
        was, now = before.get(name, {}), after.get(name, {})
        if was.get("score") != now.get("score"):
            changed.append(QuestionChange(name, was.get("score"), now.get("score"), float((now or was)["points"]),
                                          "" if "score" in now else "written answer: not scored by hand yet"))
    return changed


def failure_message(question):
    """Why ``question`` loses points, on one line: each failing case's name and message, or
    the question's output where no case says (it could not run)."""
    failed = [case for case in question.cases if not case["passed"]]
    text = "; ".join(f"{case['name']}: {case['message'].replace('❌ Test case failed', '')}" for case in failed)
    return cut(" ".join((text or question.output or question.status).split()), MESSAGE_LIMIT)


def regrade(out, results):
    """What the regrade changed in ``results`` (this batch's, as stored in ``out``); None when
    no submission of them has an earlier result graded with another zip."""
    compared, changes = 0, []
    for result in results:
        earlier = baseline(out, result)
        if earlier is None:
            continue
        compared += 1
        questions = compare(earlier, result) + compare_written(earlier, result)
        old_total, new_total = totals(earlier, [])[0], totals(result, [])[0]
        if questions or not math.isclose(old_total, new_total, abs_tol=1e-9):
            changes.append(Change(result.submission, result.student, old_total, new_total, questions))
    return Regrade(compared, changes) if compared else None


def write_regrade(out, results):
    """Write ``out/regrade.csv`` (``regrade_csv``) where some submission of ``results`` was
    graded before with another zip, even if no score changed (its header then says that the
    regrade ran); returns the ``Regrade``, or None (and writes nothing, removes nothing)."""
    found = regrade(out, results)
    if found is not None:
        write_atomically(Path(out) / REGRADE_CSV, regrade_csv(found.changes))
    return found


def regrade_csv(changes):
    """The text of regrade.csv: a header, then one row per question of each change."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REGRADE_COLUMNS)
    for change in changes:
        who = [change.student.get(key, "") for key in ("name", "email", "sid")]
        for q in change.questions:
            writer.writerow([change.submission, *who, q.question, _points(q.old), _points(q.new), f"{q.possible:g}",
                             f"{change.old_total:g}", f"{change.new_total:g}", q.message])
    return buffer.getvalue()


def _points(points):
    return "" if points is None else f"{points:g}"


def _when(graded_at, path):
    """``graded_at`` (or, where it is empty or unreadable, ``path``'s time), UTC, as a folder name."""
    try:
        moment = datetime.fromisoformat(graded_at)
    except ValueError:
        moment = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")


def stored_result(folder):
    """The result stored in the submission ``folder``'s results.json, or None where there is
    none or it is not one."""
    return _parsed(_read_bytes(Path(folder) / "results.json"))


def _read_bytes(path):
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def _parsed(stored):
    """The result in the text of a ``results.json``, or None where it is not one."""
    try:
        return SubmissionResult.from_gradescope(json.loads(stored))
    except (ValueError, KeyError, TypeError):
        return None
