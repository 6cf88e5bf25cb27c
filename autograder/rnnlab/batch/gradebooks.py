"""The batch's gradebooks, one row per submission: ``gradebook.csv`` (generic, and what
Gradescope imports: email and SID) and ``canvas.csv`` (what Canvas's gradebook import
reads).  Scores given by hand count in both once merged.

After a regrade, ``rnnlab grade --changed-only`` writes the correction to upload beside them:
``gradebook-changed.csv`` and ``canvas-changed.csv``, the same columns with the rows of the
submissions whose score changed only (see ``history``).  The full gradebooks stay complete:
a file named for what it holds cannot be uploaded as the whole gradebook by mistake, nor the
whole one as the correction, and a gradebook.csv cut to a few rows would lose every other
submission's score from the one file that lists them all."""

import csv
import io
from pathlib import Path

from .manual import given_scores, merged_questions, totals
from .reports import write_atomically

# Canvas's gradebook import (instructure/canvas-lms, app/models/gradebook_importer.rb, as
# its own export writes the file): the header starts with exactly these student columns
# (it checks "Student" then "ID" in the first two, "SIS User ID" and "SIS Login ID" in the
# next two, and "Section" last); each further column is an assignment, "Title (assignment
# id)" matched by the id, a bare title by the title (or a new assignment is made); the row
# whose first cell holds "Points Possible" gives the points, not a student; a student is
# found by "ID" (Canvas's user id), else "SIS User ID", else "SIS Login ID", else by name; an
# empty score changes nothing.  So canvas.csv has one assignment column, and no other
# column (not even the submission's id), lest Canvas make an assignment of it.
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it
GRADEBOOK = "gradebook.csv"
CANVAS = "canvas.csv"
CHANGED_GRADEBOOK = "gradebook-changed.csv"
CHANGED_CANVAS = "canvas-changed.csv"


def write_gradebook(out, results, only=None, file_name=GRADEBOOK):
    """``out/gradebook.csv`` (or ``file_name``): who, per-question scores (and those given by
    hand, once merged), total, possible, status.  ``only``: the ids of the submissions to list
    (default: all); the columns are the whole batch's either way."""
    if not results:
        return
    names = [q.name for q in results[0].questions]
    manual = merged_questions(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "name", "email", "sid"] + names + [name for name, _ in manual]
                    + ["total", "possible", "status"])
    for r in _listed(results, only):
        who = [r.student.get(k, "") for k in ("name", "email", "sid")]
        given, (score, possible) = given_scores(r), totals(r, manual)
        writer.writerow([r.submission] + who + [f"{q.score:g}" for q in r.questions]
                        + [f"{given[name]:g}" if name in given else "" for name, _ in manual]
                        + [f"{score:g}", f"{possible:g}", r.status])
    write_atomically(Path(out) / file_name, buffer.getvalue())


def canvas_column(lab, assignment_id=None):
    """The assignment's column in canvas.csv: ``LAB (ID)`` when Canvas's id of it is known."""
    return f"{lab} ({assignment_id})" if assignment_id else lab


def write_canvas_gradebook(out, results, lab, questions, assignment_id=None, only=None, file_name=CANVAS):
    """``out/canvas.csv`` (or ``file_name``) for Canvas's gradebook import: the student columns,
    one column for the lab (``canvas_column``), a "Points Possible" row with the lab's points
    (those graded by hand, ``questions``, included) and each submission's total so far (of
    those in ``only``, default all).  A submission the grader failed on (status "error") gets
    no score, which leaves Canvas's as it is."""
    if not results:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CANVAS_STUDENT_COLUMNS + (canvas_column(lab, assignment_id),))
    possible = totals(results[0], [(q["name"], float(q["points"])) for q in questions])[1]
    writer.writerow([CANVAS_POINTS_POSSIBLE, "", "", "", "", f"{possible:g}"])
    for r in _listed(results, only):
        who = [r.student.get(key, "") for key in ("name", "canvas_id", "sid", "sis_login_id", "section")]
        writer.writerow(who + ["" if r.status == "error" else f"{totals(r, [])[0]:g}"])
    write_atomically(Path(out) / file_name, buffer.getvalue())


def write_corrections(out, results, changed, lab, questions, assignment_id=None):
    """``out/gradebook-changed.csv`` and ``out/canvas-changed.csv``: both gradebooks with the
    rows of the submissions in ``changed`` only (header only where none changed, so that a
    correction of an earlier run is not left to be uploaded again); returns their paths."""
    write_gradebook(out, results, only=changed, file_name=CHANGED_GRADEBOOK)
    write_canvas_gradebook(out, results, lab, questions, assignment_id, only=changed, file_name=CHANGED_CANVAS)
    return [Path(out) / CHANGED_GRADEBOOK, Path(out) / CHANGED_CANVAS]


def _listed(results, only):
    """``results``, or those of the submissions in ``only``."""
    return results if only is None else [r for r in results if r.submission in only]
