"""The batch's gradebooks, one row per submission: ``gradebook.csv`` (generic, and what
Gradescope imports: email and SID) and ``canvas.csv`` (what Canvas's gradebook import
reads).  Scores given by hand count in both once merged."""

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


def write_gradebook(out, results):
    """``out/gradebook.csv``: who, per-question scores (and those given by hand, once merged),
    total, possible, status."""
    if not results:
        return
    names = [q.name for q in results[0].questions]
    manual = merged_questions(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "name", "email", "sid"] + names + [name for name, _ in manual]
                    + ["total", "possible", "status"])
    for r in results:
        who = [r.student.get(k, "") for k in ("name", "email", "sid")]
        given, (score, possible) = given_scores(r), totals(r, manual)
        writer.writerow([r.submission] + who + [f"{q.score:g}" for q in r.questions]
                        + [f"{given[name]:g}" if name in given else "" for name, _ in manual]
                        + [f"{score:g}", f"{possible:g}", r.status])
    write_atomically(Path(out) / "gradebook.csv", buffer.getvalue())


def canvas_column(lab, assignment_id=None):
    """The assignment's column in canvas.csv: ``LAB (ID)`` when Canvas's id of it is known."""
    return f"{lab} ({assignment_id})" if assignment_id else lab


def write_canvas_gradebook(out, results, lab, questions, assignment_id=None):
    """``out/canvas.csv`` for Canvas's gradebook import: the student columns, one column for
    the lab (``canvas_column``), a "Points Possible" row with the lab's points (those graded
    by hand, ``questions``, included) and each submission's total so far.  A submission the
    grader failed on (status "error") gets no score, which leaves Canvas's as it is."""
    if not results:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CANVAS_STUDENT_COLUMNS + (canvas_column(lab, assignment_id),))
    possible = totals(results[0], [(q["name"], float(q["points"])) for q in questions])[1]
    writer.writerow([CANVAS_POINTS_POSSIBLE, "", "", "", "", f"{possible:g}"])
    for r in results:
        who = [r.student.get(key, "") for key in ("name", "canvas_id", "sid", "sis_login_id", "section")]
        writer.writerow(who + ["" if r.status == "error" else f"{totals(r, [])[0]:g}"])
    write_atomically(Path(out) / "canvas.csv", buffer.getvalue())
