"""Scores given by hand to the written answers: the lab's questions graded by hand, the
``manual-scores.csv`` that ``written-answers.html`` downloads (read and checked whole before
anything is written), and each result with those scores merged in.

``manual-scores.csv`` has a header and one row per submission and question:
``submission,question,score`` (in any case and order; other columns are ignored).  A blank
score means "not scored yet" and changes nothing; any other score must be a number from 0 to
the question's points.  A merged score is kept in the result's written answer (``score``,
in ``results.json`` under ``rnnlab.written``), so that it outlives a resumed batch, and
counts in ``results.json``'s total and in the written question's test entry.
"""

import json
import math
import re
import zipfile

from rnnlab_checks.reference import REFERENCE_PACKAGE
from rnnlab_engine.grading import REFERENCE_ANSWER, WRITTEN_QUESTIONS

from .csvfiles import InputFileError, error_at, read_table

COLUMNS = ("submission", "question", "score")


def written_questions(autograder_zip):
    """The questions graded by hand of the lab of ``autograder_zip``: ``{"name", "points",
    "prompt", "reference_answer"}`` each (the grader leaves the reference answer out of every
    result).  Read from the zip itself, so that a scores file is checked before grading."""
    try:
        with zipfile.ZipFile(autograder_zip) as archive:
            name = f"{REFERENCE_PACKAGE}/{WRITTEN_QUESTIONS}"
            listed = json.loads(archive.read(name)) if name in archive.namelist() else []
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise InputFileError(f"{autograder_zip}: not an autograder zip ({error})") from None
    return [{REFERENCE_ANSWER: "", **question} for question in listed]


def read_manual_scores(path, submission_ids, questions):
    """``{submission: {question: score}}`` from the manual scores CSV at ``path``, checked
    against the batch's ``submission_ids`` and the lab's ``questions`` graded by hand; raises
    ``InputFileError`` (one line, naming the file and the line) at the first problem."""
    header, rows = read_table(path)
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise error_at(path, 1, f"expected the columns {', '.join(COLUMNS)}; {', '.join(missing)} "
                       f"{'is' if len(missing) == 1 else 'are'} missing")
    points = {q["name"]: float(q["points"]) for q in questions}
    known = set(submission_ids)
    scores, lines = {}, {}
    for line, cells in rows:
        submission, question, given = (cells.get(column, "") for column in COLUMNS)
        if submission not in known:
            raise error_at(path, line, f"no submission {submission!r} in this batch")
        if question not in points:
            kinds = f"those are {', '.join(points)}" if points else "this lab has none"
            raise error_at(path, line, f"{question!r} is not a question graded by hand ({kinds})")
        if (submission, question) in lines:
            raise error_at(path, line, f"{submission} {question} is scored on line {lines[submission, question]} too")
        lines[submission, question] = line
        if given:
            scores.setdefault(submission, {})[question] = _score(path, line, given, question, points[question])
    return scores


def _score(path, line, given, question, points):
    """The score written as ``given``, checked to be within 0 and ``points``."""
    if re.fullmatch(r"\d+,\d+", given):  # a decimal comma, as European spreadsheets write it
        given = given.replace(",", ".")
    try:
        score = float(given)
    except ValueError:
        raise error_at(path, line, f"the score {given!r} is not a number") from None
    if not (math.isfinite(score) and 0 <= score <= points):
        raise error_at(path, line, f"the score {given} of {question} is outside 0 to {points:g}")
    return score


def merge_scores(result, scores, questions):
    """Put ``scores`` (``{question: score}``) into ``result``'s written answers; a question
    the result has no answer to (a submission that could not be read) gets an empty one."""
    answered = {written["name"] for written in result.written}
    for question in questions:
        if question["name"] in scores and question["name"] not in answered:
            result.written.append({"name": question["name"], "points": question["points"],
                                   "prompt": question["prompt"], "answer": ""})  # no reference in a result
    for written in result.written:
        if written["name"] in scores:
            written["score"] = scores[written["name"]]


def keep_scores(result, earlier):
    """Give ``result``'s written answers the scores given by hand to ``earlier``'s (the result
    it replaces) where the question, its points and the answer are all the same."""
    given = {(w["name"], float(w["points"]), w["answer"]): w["score"] for w in earlier.written if "score" in w}
    for written in result.written:
        key = (written["name"], float(written["points"]), written["answer"])
        if key in given:
            written["score"] = given[key]


def merged_questions(results):
    """``[(question, points)]`` of the questions graded by hand, once any score given by hand
    is merged into ``results`` (none before, so that reports stay as they always were)."""
    if not any("score" in written for result in results for written in result.written):
        return []
    columns = {}
    for result in results:
        for written in result.written:
            columns.setdefault(written["name"], float(written["points"]))
    return list(columns.items())


def given_scores(result):
    """``{question: score}`` given by hand to ``result`` so far."""
    return {written["name"]: written["score"] for written in result.written if "score" in written}


def totals(result, merged):
    """``(score, possible)`` of ``result`` with the questions graded by hand (``merged``, as
    ``merged_questions`` gives them) counted in."""
    return result.score + result.written_score, result.possible + sum(points for _, points in merged)


def is_scored(result, questions):
    """Whether every question graded by hand has a score in ``result``."""
    scored = {written["name"] for written in result.written if "score" in written}
    return all(question["name"] in scored for question in questions)

