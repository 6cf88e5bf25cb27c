"""A regrade shows what changed: a result that a new grading replaces is kept in the
submission's history, each result is compared with the latest one graded with another
autograder zip (regrade.csv, the summary's section), and --changed-only writes the correction
to upload.  The fast tests make the results by hand (no kernel); the slow one changes a check
of a real zip and grades again."""

import csv
import json
import shutil
import zipfile

import pytest
from test_grading import FULL

from rnnlab.batch import batch, gradebooks, history, reports
from rnnlab.cli import grade, main
from rnnlab_engine.results import QuestionResult, SubmissionResult, feedback_text

LAB = "rnn_lstm_numpy"
POSSIBLE = {"q1": 2.0, "q2": 4.0, "q3": 1.0}
FIRST, SECOND = "2026-12-08T01:02:03+00:00", "2026-12-09T10:00:00+00:00"
PNG = "iVBORw0KGgo="  # base64 of PNG's signature: what the reports write of a plot


def question(name, score, message="the check fails."):
    """``name`` scored ``score`` of ``POSSIBLE[name]``: one case, failing with ``message`` below
    full marks (as the checker words it)."""
    passed = score >= POSSIBLE[name]
    cases = [{"name": f"test_{name}", "hidden": False, "points": POSSIBLE[name], "passed": passed,
              "message": "" if passed else f"❌ Test case failed\n{message}"}]
    return QuestionResult(name, float(score), POSSIBLE[name], output=feedback_text(cases), cases=cases)


def graded(submission, scores, autograder="zip-a", graded_at=FIRST, status="ok", messages=None, student=None):
    """A result as the batch stores it: ``scores`` ``{question: score}``, failing with
    ``messages`` ``{question: message}``."""
    result = SubmissionResult(submission, status, [question(name, score, *([messages[name]] if name in (messages or {})
                                                                           else [])) for name, score in scores.items()])
    result.autograder, result.graded_at = autograder, graded_at
    result.student = student or {"name": submission.title(), "email": f"{submission}@example.org", "sid": ""}
    return result


def stored(out, result):
    """``result`` written into ``out`` as the batch writes it, its replaced result archived first."""
    history.archive(out / result.submission)
    reports.write_submission(out, result)
    return result


def rows(path):
    """The rows of a CSV file, header first."""
    return list(csv.reader(path.open(newline="")))


@pytest.fixture(autouse=True)
def no_histogram(monkeypatch):
    """The summary's histogram is drawn by matplotlib (half a second to import): not what is
    tested here."""
    monkeypatch.setattr(reports, "histogram", lambda scores, possible: "")


# --- the history -------------------------------------------------------------------------------

def test_a_replaced_result_is_kept_with_its_page_and_plots_and_the_next_one_after_it(tmp_path):
    first = graded("alice", {"q1": 2, "q2": 4})
    first.images = [PNG, PNG]
    reports.write_submission(tmp_path, first)
    folder = tmp_path / "alice"
    before = (folder / "results.json").read_bytes()
    assert history.archive(folder).score == 6
    [entry] = history.entries(folder)
    assert entry.name == "1-2026-12-08T01-02-03"  # N, then when that result was graded (UTC)
    assert sorted(p.name for p in entry.iterdir()) == ["feedback.html", "plot-1.png", "plot-2.png", "results.json"]
    assert (entry / "results.json").read_bytes() == before
    second = graded("alice", {"q1": 0, "q2": 4}, autograder="zip-b", graded_at=SECOND)
    second.images = [PNG]
    reports.write_submission(tmp_path, second)
    assert [p.name for p in folder.glob("plot-*.png")] == ["plot-1.png"]  # plot-2 was the first result's
    history.archive(folder)
    assert [e.name for e in history.entries(folder)] == ["1-2026-12-08T01-02-03", "2-2026-12-09T10-00-00"]
    assert [(r.autograder, r.score) for r in history.earlier_results(folder)] == [("zip-a", 6), ("zip-b", 4)]


def test_a_crash_while_archiving_loses_nothing_and_a_result_is_archived_once(tmp_path, monkeypatch):
    reports.write_submission(tmp_path, graded("alice", {"q1": 2}))
    folder = tmp_path / "alice"

    def killed(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(history.os, "rename", killed)
        with pytest.raises(KeyboardInterrupt):
            history.archive(folder)
    assert (folder / "results.json").is_file() and history.entries(folder) == []  # a hidden partial copy at most
    history.archive(folder)
    history.archive(folder)  # a run stopped between archiving and writing the new result: found archived
    assert len(history.entries(folder)) == 1 and history.archive(tmp_path / "nobody") is None


def test_a_result_stored_before_the_zip_and_time_were_recorded_is_read_and_archived(tmp_path):
    payload = graded("alice", {"q1": 2}).to_gradescope()
    del payload["rnnlab"]["autograder"], payload["rnnlab"]["graded_at"]
    legacy = SubmissionResult.from_gradescope(payload)
    assert (legacy.autograder, legacy.graded_at, legacy.score) == ("", "", 2)
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "results.json").write_text(json.dumps(payload))
    assert history.archive(tmp_path / "alice").score == 2
    [entry] = history.entries(tmp_path / "alice")
    assert entry.name.startswith("1-20")  # when its file was written


# --- the comparison ----------------------------------------------------------------------------

def test_only_questions_whose_points_changed_are_compared_and_added_or_removed_ones_count():
    old = graded("alice", {"q1": 2, "q2": 4, "q3": 1})
    new = graded("alice", {"q1": 0, "q2": 4}, messages={"q1": "generate_dataset: n should stop at max_n."})
    assert history.compare(old, new) == [
        history.QuestionChange("q1", 2, 0, 2, "test_q1: generate_dataset: n should stop at max_n."),
        history.QuestionChange("q3", 1, None, 1, "")]  # removed by the new zip
    assert history.compare(new, old) == [history.QuestionChange("q1", 0, 2, 2, ""),
                                         history.QuestionChange("q3", None, 1, 1, "")]  # added
    assert history.compare(old, graded("alice", {"q1": 2, "q2": 4, "q3": 1}, autograder="zip-b")) == []


def test_the_baseline_is_the_latest_grade_of_another_zip(tmp_path):
    stored(tmp_path, graded("alice", {"q1": 2}, autograder="zip-a"))
    stored(tmp_path, graded("alice", {"q1": 1}, autograder="zip-a"))  # a resubmission
    stored(tmp_path, graded("alice", {"q1": 0}, autograder="zip-b", status="error"))  # the grader failed
    current = stored(tmp_path, graded("alice", {"q1": 0}, autograder="zip-b"))
    assert history.baseline(tmp_path, current).score == 1
    resubmitted = stored(tmp_path, graded("alice", {"q1": 2}, autograder="zip-b"))
    assert history.baseline(tmp_path, resubmitted).score == 1  # still the last before the regrade
    failed = stored(tmp_path, graded("alice", {"q1": 0}, autograder="zip-c", status="error"))
    assert history.baseline(tmp_path, failed) is None  # no grade to compare


def test_regrade_csv_has_a_row_per_changed_question_and_a_header_when_nothing_changed(tmp_path):
    alice = stored(tmp_path, graded("alice", {"q1": 2, "q2": 4}))
    bob = stored(tmp_path, graded("bob", {"q1": 1, "q2": 4}))
    assert history.write_regrade(tmp_path, [alice, bob]) is None and not (tmp_path / "regrade.csv").exists()
    newer = [stored(tmp_path, graded("alice", {"q1": 2, "q2": 4}, autograder="zip-b")),
             stored(tmp_path, graded("bob", {"q1": 1, "q2": 4}, autograder="zip-b"))]
    found = history.write_regrade(tmp_path, newer)
    assert (found.compared, found.changes) == (2, [])
    assert rows(tmp_path / "regrade.csv") == [list(history.REGRADE_COLUMNS)]
    newer = [stored(tmp_path, graded("alice", {"q1": 0, "q2": 4, "q3": 1}, autograder="zip-c",
                                     messages={"q1": "generate_dataset:\n  n should stop at max_n."})),
             stored(tmp_path, graded("bob", {"q1": 1, "q2": 4, "q3": 1}, autograder="zip-c"))]
    found = history.write_regrade(tmp_path, newer)
    assert found.changed == {"alice", "bob"}
    assert rows(tmp_path / "regrade.csv") == [
        ["submission", "name", "email", "sid", "question", "old_points", "new_points", "possible", "old_total",
         "new_total", "message"],
        ["alice", "Alice", "alice@example.org", "", "q1", "2", "0", "2", "6", "5",
         "test_q1: generate_dataset: n should stop at max_n."],  # one line, in one cell
        ["alice", "Alice", "alice@example.org", "", "q3", "", "1", "1", "6", "5", ""],
        ["bob", "Bob", "bob@example.org", "", "q3", "", "1", "1", "5", "6", ""]]
    text = (tmp_path / "regrade.csv").read_text()
    assert history.write_regrade(tmp_path, newer) == found and (tmp_path / "regrade.csv").read_text() == text


def test_the_summary_says_what_the_regrade_changed_and_nothing_without_one(tmp_path):
    old, new = graded("alice", {"q1": 2, "q2": 4}), graded("alice", {"q1": 0, "q2": 4}, autograder="zip-b",
                                                             messages={"q1": "n <b>should</b> stop at max_n."})
    found = history.Regrade(1, [history.Change("alice", new.student, 6, 4, history.compare(old, new))])
    reports.write_summary(tmp_path, [new], found)
    page = (tmp_path / "summary.html").read_text()
    assert "<h2>Changed by the regrade</h2>" in page and "1 of 1 submission graded before" in page
    assert "alice (Alice)" in page and "6 &rarr; 4" in page and "2 &rarr; 0 / 2" in page
    assert "n &lt;b&gt;should&lt;/b&gt; stop at max_n." in page
    reports.write_summary(tmp_path, [new], history.Regrade(1))
    assert "No score changed." in (tmp_path / "summary.html").read_text()
    reports.write_summary(tmp_path, [new])
    assert "Changed by the regrade" not in (tmp_path / "summary.html").read_text()


def test_correction_gradebooks_list_the_changed_submissions_under_the_full_header(tmp_path):
    results = [graded("alice", {"q1": 0, "q2": 4}), graded("bob", {"q1": 1, "q2": 4})]
    results[0].student["canvas_id"] = "501"
    paths = gradebooks.write_corrections(tmp_path, results, {"alice"}, LAB, [], "4711")
    assert [p.name for p in paths] == ["gradebook-changed.csv", "canvas-changed.csv"]
    assert rows(paths[0]) == [["submission", "name", "email", "sid", "q1", "q2", "total", "possible", "status"],
                              ["alice", "Alice", "alice@example.org", "", "0", "4", "4", "6", "ok"]]
    assert rows(paths[1]) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{LAB} (4711)"],
                              ["    Points Possible", "", "", "", "", "6"], ["Alice", "501", "", "", "", "4"]]
    gradebooks.write_corrections(tmp_path, results, set(), LAB, [])
    assert len(rows(paths[0])) == 1 and len(rows(paths[1])) == 2  # nothing to upload


# --- rnnlab grade, its grading made by hand ----------------------------------------------------

def fake_zip(path, version):
    """A zip with what the batch reads of an autograder (no written question), and a version."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rnnlab_reference/written_questions.json", "[]")
        archive.writestr("version", version)
    return path


@pytest.fixture
def grading(monkeypatch):
    """``grading[version][submission]``: the scores the zip of that version gives (as a
    ``graded`` call's arguments) in place of grading; ``grading.done`` lists what was graded."""
    class Grading(dict):
        def grade_here(self, autograder, submissions, fingerprints, jobs, limits):
            version = (autograder.source / "version").read_text()
            for submission in submissions:
                self.done.append(submission.id)
                scores, messages = self[version][submission.id]
                yield batch._labelled(graded(submission.id, scores, messages=messages), submission,
                                      fingerprints[submission.id])

    made = Grading()
    made.done = []
    monkeypatch.setattr(batch, "_grade_here", made.grade_here)
    return made


def test_rnnlab_grade_regrades_into_the_same_folder_and_writes_the_correction(tmp_path, grading, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("alice", "bob"):
        (folder / f"{name}.ipynb").write_text(f"{name}'s notebook")
    grading["a"] = {"alice": ({"q1": 2, "q2": 4}, {}), "bob": ({"q1": 1, "q2": 4}, {})}
    grading["b"] = {"alice": ({"q1": 0, "q2": 4}, {"q1": "n should stop at max_n."}), "bob": ({"q1": 1, "q2": 4}, {})}
    zip_a, zip_b = fake_zip(tmp_path / "a.zip", "a"), fake_zip(tmp_path / "b.zip", "b")
    roster = tmp_path / "students.csv"
    roster.write_text("submission,name,email\nalice,Alice,alice@example.org\nbob,Bob,bob@example.org\n")
    assert main(["grade", LAB, str(folder), "--out", str(out), "--autograder", str(zip_a), "--roster", str(roster),
                 "--changed-only"]) == 0
    assert "none was graded before with another autograder zip" in capsys.readouterr().out
    assert not (out / "regrade.csv").exists() and not (out / "alice" / "history").exists()
    assert "Changed by the regrade" not in (out / "summary.html").read_text()
    first = json.loads((out / "alice" / "results.json").read_text())

    grade(LAB, [folder], out, autograder=zip_b, changed_only=True)  # no roster: the names stay
    printed = capsys.readouterr().out
    assert f"regrade: 1 of 2 submissions graded before with another autograder zip changed score; each " \
           f"question: {out / 'regrade.csv'}" in printed
    assert f"correction to upload (1 submission): {out / 'gradebook-changed.csv'} (Gradescope), " \
           f"{out / 'canvas-changed.csv'} (Canvas)\n" in printed
    assert grading.done == ["alice", "bob", "alice", "bob"]
    for name in ("alice", "bob"):
        [entry] = history.entries(out / name)
        assert json.loads((entry / "results.json").read_text())["rnnlab"]["autograder"] == \
            batch.hashlib.sha256(zip_a.read_bytes()).hexdigest()
    assert json.loads((history.entries(out / "alice")[0] / "results.json").read_text()) == first
    assert rows(out / "regrade.csv")[1:] == [["alice", "Alice", "alice@example.org", "", "q1", "2", "0", "2", "6", "4",
                                              "test_q1: n should stop at max_n."]]
    assert "Changed by the regrade" in (out / "summary.html").read_text()
    assert [row[0] for row in rows(out / "gradebook.csv")] == ["submission", "alice", "bob"]
    assert [row[0] for row in rows(out / "gradebook-changed.csv")] == ["submission", "alice"]
    assert [row[0] for row in rows(out / "canvas-changed.csv")] == ["Student", "    Points Possible", "Alice"]
    written = {name: (out / name).read_bytes() for name in ("regrade.csv", "gradebook-changed.csv")}

    grade(LAB, [folder], out, autograder=zip_b, changed_only=True)  # the same command again: the same report
    assert grading.done == ["alice", "bob", "alice", "bob"]
    assert written == {name: (out / name).read_bytes() for name in written}
    assert len(history.entries(out / "alice")) == 1


def test_a_resubmission_with_the_same_zip_is_archived_but_no_regrade(tmp_path, grading):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "alice.ipynb").write_text("first")
    (folder / "bob.ipynb").write_text("bob's")
    grading["a"] = {"alice": ({"q1": 1}, {}), "bob": ({"q1": 2}, {})}
    zip_a = fake_zip(tmp_path / "a.zip", "a")
    grade(LAB, [folder], out, autograder=zip_a)
    (out / "regrade.csv").write_text("an earlier regrade's\n")
    (folder / "alice.ipynb").write_text("second")
    grading["a"]["alice"] = ({"q1": 2}, {})
    [alice, bob] = grade(LAB, [folder], out, autograder=zip_a)
    assert (alice.score, bob.score) == (2, 2) and len(history.entries(out / "alice")) == 1
    assert not (out / "bob" / "history").exists()
    assert (out / "regrade.csv").read_text() == "an earlier regrade's\n"  # not this run's to remove


def test_a_new_grading_keeps_who_handed_it_in_and_the_scores_given_by_hand(tmp_path, grading, monkeypatch):
    path = tmp_path / "alice.ipynb"
    path.write_text("alice's")
    question = {"name": "q9", "points": 2.0, "prompt": "Compare.", "answer": "Mine."}
    zip_a, zip_b = fake_zip(tmp_path / "a.zip", "a"), fake_zip(tmp_path / "b.zip", "b")
    grading["a"], grading["b"] = {"alice": ({"q1": 2}, {})}, {"alice": ({"q1": 1}, {})}
    original = grading.grade_here

    def with_answer(*args):
        for result in original(*args):
            result.written = [dict(question)]
            yield result

    monkeypatch.setattr(batch, "_grade_here", with_answer)
    named = batch.Submission("alice", path, name="Alice Liddell", canvas_id="501")
    batch.grade_all(zip_a, [named], tmp_path / "out", progress=False, manual_scores={"alice": {"q9": 1.5}})
    [again] = batch.grade_all(zip_b, [batch.Submission("alice", path)], tmp_path / "out", progress=False)
    assert again.student["name"] == "Alice Liddell" and again.student["canvas_id"] == "501"
    assert again.written[0]["score"] == 1.5 and again.score == 1
    assert [(c.old_total, c.new_total) for c in history.regrade(tmp_path / "out", [again]).changes] == [(3.5, 2.5)]


def test_a_stored_result_without_its_zip_gets_it_when_the_fingerprint_matches(tmp_path, grading):
    path = tmp_path / "alice.ipynb"
    path.write_text("alice's")
    zip_a = fake_zip(tmp_path / "a.zip", "a")
    submission = batch.Submission("alice", path)
    legacy = graded("alice", {"q1": 2}, autograder="", graded_at="")
    legacy.fingerprint = submission.fingerprint(batch.hashlib.sha256(zip_a.read_bytes()).hexdigest())
    reports.write_submission(tmp_path / "out", legacy)
    batch.grade_all(zip_a, [submission], tmp_path / "out", progress=False)
    assert grading.done == []
    stored_now = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())["rnnlab"]
    assert stored_now["autograder"] == batch.hashlib.sha256(zip_a.read_bytes()).hexdigest()


# --- a real regrade ----------------------------------------------------------------------------

TIGHTENED = ("    check_callable('generate_dataset', generate_dataset)\n",
             "    check_callable('generate_dataset', generate_dataset)\n"
             "    raise CheckFailure('generate_dataset: the fixed check asks for more (regrade test).')\n")


def with_a_check_changed(autograder_zip, target):
    """A copy of ``autograder_zip`` whose q1 public case now fails for every submission."""
    with zipfile.ZipFile(autograder_zip) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "tests/q1.py":
                text = data.decode()
                assert text.count(TIGHTENED[0]) == 1
                data = text.replace(*TIGHTENED).encode()
            out.writestr(item, data)
    return target


@pytest.mark.slow
def test_a_real_regrade_with_a_changed_check(first_questions_zip, first_questions_notebook, tmp_path, capsys):
    """One correct notebook graded twice: with the zip, then with q1's public case made to
    fail; the first result is kept, regrade.csv and the summary say what changed, and the
    correction lists the submission (which submissions it leaves out: the fast tests)."""
    notebook, out = shutil.copy(first_questions_notebook, tmp_path / "dave.ipynb"), tmp_path / "out"
    [dave] = grade(LAB, [notebook], out, autograder=first_questions_zip)
    assert dave.score == FULL
    fixed = with_a_check_changed(first_questions_zip, tmp_path / "fixed-autograder.zip")
    [dave] = grade(LAB, [notebook], out, autograder=fixed, changed_only=True)
    assert (dave.score, dave.status) == (FULL - 1, "ok")
    [entry] = history.entries(out / "dave")
    assert json.loads((entry / "results.json").read_text())["score"] == FULL
    [header, row] = rows(out / "regrade.csv")
    change = dict(zip(header, row))
    assert {k: change[k] for k in ("submission", "question", "old_points", "new_points", "possible")} == {
        "submission": "dave", "question": "q1", "old_points": "2", "new_points": "1", "possible": "2"}
    assert (change["old_total"], change["new_total"]) == (f"{FULL:g}", f"{FULL - 1:g}")
    assert change["message"] == ("test_sequences_are_a_n_b_n_eos: generate_dataset: the fixed check asks for more "
                                 "(regrade test).")
    summary = (out / "summary.html").read_text()
    assert "Changed by the regrade" in summary and "the fixed check asks for more" in summary
    assert [row[0] for row in rows(out / "gradebook-changed.csv")] == ["submission", "dave"]
    assert [row[-1] for row in rows(out / "canvas-changed.csv")] == [LAB, f"{FULL:g}", f"{FULL - 1:g}"]
    assert f"regrade: 1 of 1 submission graded before with another autograder zip changed score; each " \
           f"question: {out / 'regrade.csv'}" in capsys.readouterr().out


def test_a_score_given_by_hand_that_a_new_zip_drops_is_a_change(tmp_path):
    """The new zip gives the written question other points: its score given by hand is not
    carried over, so the total changes and the submission is in the correction."""
    old = graded("alice", {"q1": 2}, autograder="zip-a")
    old.written = [{"name": "q9", "points": 2, "prompt": "Why?", "answer": "Because.", "score": 1.5}]
    stored(tmp_path, old)
    new = graded("alice", {"q1": 2}, autograder="zip-b", graded_at=SECOND)
    new.written = [{"name": "q9", "points": 3, "prompt": "Why?", "answer": "Because."}]
    batch.carry_over(new, history.archive(tmp_path / "alice"))
    reports.write_submission(tmp_path, new)
    found = history.regrade(tmp_path, [new])
    assert found.changed == {"alice"}
    [change] = found.changes
    assert (change.old_total, change.new_total) == (3.5, 2)
    assert change.questions == [history.QuestionChange("q9", 1.5, None, 3.0, "written answer: not scored by hand yet")]


def test_a_second_batch_into_the_same_folder_stops_while_the_first_writes(tmp_path):
    with batch.writing_alone(tmp_path):
        with pytest.raises(batch.InputFileError, match="another rnnlab grade is writing there"):
            with batch.writing_alone(tmp_path):
                pass
    with batch.writing_alone(tmp_path):  # free again once the first is done
        pass


def test_a_copy_into_the_history_that_a_crash_left_unfinished_is_cleared(tmp_path):
    stored(tmp_path, graded("alice", {"q1": 2}))
    unfinished = tmp_path / "alice" / history.HISTORY / ".1-2026-12-08T01-02-03.x1y2"
    unfinished.mkdir(parents=True)
    stored(tmp_path, graded("alice", {"q1": 1}, autograder="zip-b", graded_at=SECOND))
    assert not unfinished.exists() and [e.name for e in history.entries(tmp_path / "alice")] == [
        "1-2026-12-08T01-02-03"]
