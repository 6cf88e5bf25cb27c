"""The course staff's side of a batch: a roster of who handed in what, canvas.csv for Canvas's
gradebook import, the written answers scored by hand on written-answers.html and merged
with --manual (into results graded now or before), and their errors, one line each."""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import zipfile

import nbformat
import pytest

from rnnlab.authoring.labs import load_lab
from rnnlab.batch import batch, gradebooks, manual, reports
from rnnlab.batch.csvfiles import InputFileError
from rnnlab.batch.roster import apply_roster, read_roster
from rnnlab.batch.written_page import written_answers_page
from rnnlab.cli import grade, main
from rnnlab_engine.grading import written_answers
from rnnlab_engine.results import QuestionResult, SubmissionResult

LAB = "char_rnn_torch"  # the lab with a question graded by hand
REFERENCE = "The GRU's update gate copies the state."
QUESTIONS = [{"name": "q9", "points": 2.0, "prompt": "Compare the two models.", "reference_answer": REFERENCE}]


def graded(submission, q1=4.0, status="ok", answer="Mine.", student=None):
    """A result as the grader makes it: q1 (4 points), q2 (2, full) and the written q9."""
    result = SubmissionResult(submission, status, [QuestionResult("q1", q1, 4.0), QuestionResult("q2", 2.0, 2.0)])
    result.written = [{"name": "q9", "points": 2.0, "prompt": "Compare the two models.", "answer": answer}]
    result.student = student or {"name": "", "email": "", "sid": ""}
    return result


def write(path, text):
    """``path`` with ``text`` written into it."""
    path.write_text(text)
    return path


def one_line_error(call, *args):
    """The message of the ``InputFileError`` that ``call(*args)`` raises: it must be one line."""
    with pytest.raises(InputFileError) as raised:
        call(*args)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- roster -------------------------------------------------------------------------------

def test_roster_matches_by_id_email_sid_and_a_name_only_when_it_is_one_students(tmp_path):
    roster = write(tmp_path / "students.csv", (
        "Submission, E-Mail ,SID,Student Name,Canvas_ID,sis login id,SECTION,Major\n"
        "alice,alice@example.org,1001,Alice Liddell,501,aliddell,L01,Maths\n"
        ",ADA@example.org,1815,Ada Lovelace,502,alovelace,L02,\n"
        ",,1912,Alan Turing,503,,L01,\n"
        ",,,\"Grace  Hopper\",504,,L02,\n"
        ",,,Sam Lee,505,,L01,\n"
        ",,,Sam Lee,506,,L02,\n"
        "\n"))
    submissions = [batch.Submission("alice", tmp_path / "alice.ipynb"),
                   batch.Submission("submission_7", tmp_path / "submission_7", name="Ada L.", email="ada@EXAMPLE.org"),
                   batch.Submission("submission_8", tmp_path / "submission_8", sid="1912"),
                   batch.Submission("grace", tmp_path / "grace.zip", name="grace hopper"),
                   batch.Submission("sam", tmp_path / "sam.ipynb", name="Sam Lee"),
                   batch.Submission("zed", tmp_path / "zed.ipynb")]
    warnings = apply_roster(submissions, read_roster(roster), roster)
    assert [s.student() for s in submissions] == [
        {"name": "Alice Liddell", "email": "alice@example.org", "sid": "1001", "canvas_id": "501",
         "sis_login_id": "aliddell", "section": "L01"},
        # what Gradescope's export gave stays; the roster adds what it lacked
        {"name": "Ada L.", "email": "ada@EXAMPLE.org", "sid": "1815", "canvas_id": "502", "sis_login_id": "alovelace",
         "section": "L02"},
        {"name": "Alan Turing", "email": "", "sid": "1912", "canvas_id": "503", "section": "L01"},
        {"name": "grace hopper", "email": "", "sid": "", "canvas_id": "504", "section": "L02"},
        {"name": "Sam Lee", "email": "", "sid": ""},  # two rows of that name: neither is taken
        {"name": "", "email": "", "sid": ""}]
    assert warnings == [f"{roster}: 2 submissions in no row, graded without a student: sam, zed"]


def test_a_roster_row_matches_a_file_name_and_several_submissions_are_told(tmp_path):
    roster = write(tmp_path / "r.csv", "file,name\nbob.ipynb,Bob\nbob2,Bob\n")
    submissions = [batch.Submission("bob", tmp_path / "bob.ipynb"), batch.Submission("bob2", tmp_path / "bob2")]
    assert apply_roster(submissions, read_roster(roster), roster) == []
    assert [s.name for s in submissions] == ["Bob", "Bob"]
    roster = write(tmp_path / "r.csv", "name,email\nBob,bob@example.org\n")
    submissions = [batch.Submission(i, tmp_path / i, email="BOB@example.org") for i in ("first", "second")]
    assert apply_roster(submissions, read_roster(roster), roster) == [
        f"{roster}, line 2: 2 submissions are this student's (first, second); canvas.csv has a row for each, "
        "and Canvas keeps the last"]


def test_canvas_gradebook_export_serves_as_a_roster(tmp_path):
    """Its "ID" is Canvas's user id, its "Points Possible" line names no student."""
    roster = write(tmp_path / "export.csv", (
        "Student,ID,SIS User ID,SIS Login ID,Section,Lab 1 (4711),Current Score\n"
        "    Points Possible,,,,,26,(read only)\n"
        "\"Lovelace, Ada\",502,1815,alovelace,L02,,\n"))
    entries = read_roster(roster)
    assert [(e.line, e.fields) for e in entries] == [(3, {
        "name": "Lovelace, Ada", "canvas_id": "502", "sid": "1815", "sis_login_id": "alovelace", "section": "L02"})]
    submission = batch.Submission("submission_7", tmp_path, name="Ada Lovelace", sid="1815")
    assert apply_roster([submission], entries, roster) == []
    assert (submission.canvas_id, submission.sis_login_id, submission.section) == ("502", "alovelace", "L02")


@pytest.mark.parametrize("content, words", [
    ("name;email\nAda;ada@example.org\n", "line 1: no column to match submissions on"),
    ("id,name\n1815,Ada\n", "line 1: a column named 'id' is ambiguous"),
    ("name,student\nAda,Ada\n", "line 1: the columns 'name' and 'student' both give the name"),
    ("email,email\na@b.c,a@b.c\n", "line 1: the column 'email' is named twice"),
    ("email,name\nada@example.org,Ada\nADA@example.org,Ada L\n", "line 3: email 'ADA@example.org' is on line 2 too"),
    ("submission,sid\nalice,1\nbob,1\n", "line 3: sid '1' is on line 2 too"),
    ("submission,name\nalice,Alice,Liddell\n", "line 2: 3 cells where the header names 2"),
    ('submission,name\nalice,"Alice" Liddell\n', "line 2: not valid CSV"),
    ("", "empty; a header line is expected first"),
    (b"submission,name\nalice,Lidd\xe9ll\n", "not UTF-8 text"),
    (None, "cannot be read"),
])
def test_a_roster_that_cannot_be_used_is_one_line_naming_the_file_and_line(tmp_path, content, words):
    path = tmp_path / "students.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    message = one_line_error(read_roster, path)
    assert message.startswith(f"{path}") and words in message, message


# --- canvas.csv -----------------------------------------------------------------------------

def canvas_importer_reads(header):
    """What Canvas's gradebook import (app/models/gradebook_importer.rb) checks of a header,
    and the assignment columns it then finds: the student columns are "Student", "ID", "SIS
    User ID", "SIS Login ID" and "Section", and each column after them is an assignment."""
    assert "Student" in header[0] and "ID" in header[1]
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]
    return header[5:]


def test_canvas_csv_is_what_canvas_imports_with_the_lab_total(tmp_path):
    results = [graded("alice", student={"name": "Alice Liddell", "email": "a@x.org", "sid": "1001",
                                         "canvas_id": "501", "sis_login_id": "aliddell", "section": "L01"}),
               graded("bob", q1=1.5, student={"name": "Bob", "email": "", "sid": "1002"}),
               graded("carol", q1=0, status="error")]
    gradebooks.write_canvas_gradebook(tmp_path, results, LAB, QUESTIONS, assignment_id="4711")
    rows = list(csv.reader((tmp_path / "canvas.csv").open(newline="")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{LAB} (4711)"]
    assert canvas_importer_reads(rows[0]) == [f"{LAB} (4711)"]  # one assignment, matched by its id
    assert rows[1] == ["    Points Possible", "", "", "", "", "8"]  # 6 checked + 2 by hand
    assert rows[2:] == [["Alice Liddell", "501", "1001", "aliddell", "L01", "6"],
                        ["Bob", "", "1002", "", "", "3.5"],
                        ["", "", "", "", "", ""]]  # the grader failed: Canvas's score stays
    gradebooks.write_canvas_gradebook(tmp_path, results[:1], LAB, [])
    assert next(csv.reader((tmp_path / "canvas.csv").open())) [-1] == LAB


# --- scores given by hand ----------------------------------------------------------------

def test_manual_scores_merge_into_results_json_and_both_gradebooks(tmp_path):
    # as written-answers.html downloads it: every field quoted, CRLF, blank = not scored yet
    scores_file = write(tmp_path / "manual-scores.csv",
                        'Submission,Question,Score\r\n"alice","q9","1.5"\r\n"bob","q9",""\r\n"carol","q9","2"\r\n')
    scores = manual.read_manual_scores(scores_file, ["alice", "bob", "carol"], QUESTIONS)
    assert scores == {"alice": {"q9": 1.5}, "carol": {"q9": 2.0}}
    results = [graded("alice"), graded("bob", q1=1), graded("carol", q1=0, status="invalid")]
    results[2].written = []  # a submission that could not be read has no written answer
    for result in results:
        manual.merge_scores(result, scores.get(result.submission, {}), QUESTIONS)
    payload = results[0].to_gradescope()
    assert payload["score"] == 7.5 and payload["tests"][-1]["name"].startswith("q9 (written")
    assert (payload["tests"][-1]["score"], payload["tests"][-1]["max_score"]) == (1.5, 2.0)
    assert REFERENCE not in json.dumps(payload) and REFERENCE not in json.dumps(results[2].to_gradescope())
    assert results[1].to_gradescope()["score"] == 3  # not scored: the total as graded
    gradebooks.write_gradebook(tmp_path, results)
    assert list(csv.reader((tmp_path / "gradebook.csv").open())) == [
        ["submission", "name", "email", "sid", "q1", "q2", "q9", "total", "possible", "status"],
        ["alice", "", "", "", "4", "2", "1.5", "7.5", "8", "ok"],
        ["bob", "", "", "", "1", "2", "", "3", "8", "ok"],
        ["carol", "", "", "", "0", "2", "2", "4", "8", "invalid"]]
    gradebooks.write_canvas_gradebook(tmp_path, results, LAB, QUESTIONS)
    assert [row[-1] for row in csv.reader((tmp_path / "canvas.csv").open())] == [LAB, "8", "7.5", "3", "4"]
    assert [manual.is_scored(r, QUESTIONS) for r in results] == [True, False, True]
    assert "q9" in reports.score_table(results).splitlines()[0] and "7.5/8" in reports.score_table(results)


def test_without_merged_scores_the_gradebook_is_as_it_always_was(tmp_path):
    gradebooks.write_gradebook(tmp_path, [graded("alice")])
    assert (tmp_path / "gradebook.csv").read_text().splitlines() == [
        "submission,name,email,sid,q1,q2,total,possible,status", "alice,,,,4,2,6,6,ok"]


@pytest.mark.parametrize("content, words", [
    ("submission,question,score\nmallory,q9,1\n", "line 2: no submission 'mallory' in this batch"),
    ("submission,question,score\nalice,q1,1\n", "line 2: 'q1' is not a question graded by hand (those are q9)"),
    ("submission,question,score\nalice,q9,2.5\n", "line 2: the score 2.5 of q9 is outside 0 to 2"),
    ("submission,question,score\nbob,q9,1\nalice,q9,-1\n", "line 3: the score -1 of q9 is outside 0 to 2"),
    ("submission,question,score\nalice,q9,nan\n", "line 2: the score nan of q9 is outside 0 to 2"),
    ("submission,question,score\nalice,q9,good\n", "line 2: the score 'good' is not a number"),
    ("submission,question,score\nalice,q9,1\nalice,q9,\n", "line 3: alice q9 is scored on line 2 too"),
    ("submission,score\nalice,1\n", "line 1: expected the columns submission, question, score; question is missing"),
    ("submission,name,email,sid,q1,total\nalice,,,,4,4\n", "question, score are missing"),
    ('submission,question,score\n"alice,q9,1\n', "line 2: not valid CSV"),
    ("submission,question,score\nalice,q9,1,2\n", "line 2: 4 cells where the header names 3"),
])
def test_manual_scores_that_cannot_be_used_are_one_line_naming_the_file_and_line(tmp_path, content, words):
    path = write(tmp_path / "manual-scores.csv", content)
    message = one_line_error(manual.read_manual_scores, path, ["alice", "bob"], QUESTIONS)
    assert message.startswith(f"{path}") and words in message, message


def test_a_decimal_comma_is_read_and_a_lab_without_written_questions_takes_none(tmp_path):
    path = write(tmp_path / "m.csv", 'submission,question,score\nalice,q9,"1,5"\n')
    assert manual.read_manual_scores(path, ["alice"], QUESTIONS) == {"alice": {"q9": 1.5}}
    assert "this lab has none" in one_line_error(manual.read_manual_scores, path, ["alice"], [])


def fake_autograder(path, questions=QUESTIONS):
    """A zip with what the batch reads of an autograder before grading: its written questions."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rnnlab_reference/written_questions.json", json.dumps(questions))
    return path


def test_merge_reaches_results_graded_before_without_grading_them_again(tmp_path, monkeypatch):
    zip_path = fake_autograder(tmp_path / "autograder.zip")
    submission = batch.Submission("alice", write(tmp_path / "alice.ipynb", "{}"))
    stored = graded("alice", student={"name": "Alice", "email": "", "sid": "1001"})
    stored.fingerprint = submission.fingerprint(batch.hashlib.sha256(zip_path.read_bytes()).hexdigest())
    reports.write_submission(tmp_path / "out", stored)

    def must_not_grade(*args, **kwargs):
        raise AssertionError("a submission with a stored result was graded again")

    monkeypatch.setattr(batch.grading.Autograder, "grade", must_not_grade)
    results = batch.grade_all(zip_path, [submission], tmp_path / "out", progress=False,
                              manual_scores={"alice": {"q9": 2.0}})
    written = json.loads((tmp_path / "out" / "alice" / "results.json").read_text())
    assert written["score"] == 8 and written["tests"][-1]["score"] == 2
    assert written["rnnlab"]["student"]["name"] == "Alice"  # what was stored stays, with no roster this time
    assert written["rnnlab"]["written"][0]["score"] == 2 and results[0].written[0]["score"] == 2
    assert (tmp_path / "out" / "gradebook.csv").read_text().splitlines()[1] == "alice,Alice,,1001,4,2,2,8,8,ok"


def test_a_bad_scores_file_stops_rnnlab_grade_before_anything_is_written(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("alice", "bob"):  # a folder of one notebook would be one submission
        write(folder / f"{name}.ipynb", "{}")
    bad = write(tmp_path / "manual-scores.csv", "submission,question,score\nalice,q9,3\n")
    out = tmp_path / "out"
    assert main(["grade", LAB, str(folder), "--out", str(out), "--manual", str(bad),
                 "--autograder", str(fake_autograder(tmp_path / "autograder.zip"))]) == 1
    assert capsys.readouterr().err == f"rnnlab grade: {bad}, line 2: the score 3 of q9 is outside 0 to 2\n"
    assert not out.exists()
    roster = write(tmp_path / "students.csv", "name;email\n")
    assert main(["grade", LAB, str(folder), "--out", str(out), "--roster", str(roster)]) == 1
    assert capsys.readouterr().err.startswith(f"rnnlab grade: {roster}, line 1: no column to match")
    assert not out.exists()


def test_the_reference_answer_the_zip_carries_never_reaches_a_result(tmp_path):
    """The zip lists the reference under ``reference_answer``, which the grader leaves out of
    every result."""
    cell = nbformat.v4.new_markdown_cell("My own answer.", metadata={"tags": ["otter_answer_cell"]})
    answers = written_answers(nbformat.v4.new_notebook(cells=[cell]), QUESTIONS)
    assert answers == [{"name": "q9", "points": 2.0, "prompt": "Compare the two models.", "answer": "My own answer."}]
    assert manual.written_questions(fake_autograder(tmp_path / "new.zip")) == QUESTIONS
    assert "not an autograder zip" in one_line_error(manual.written_questions, write(tmp_path / "x.zip", "no"))


def test_the_page_has_a_score_box_per_answer_and_prints_one_submission_a_page():
    results = [graded("alice", answer="<script>alert(1)</script>", student={"name": "Alice", "email": "a@x.org",
                                                                           "sid": ""}),
               graded("bob")]
    manual.merge_scores(results[1], {"q9": 1.5}, QUESTIONS)
    page = written_answers_page(LAB, results, QUESTIONS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert page.count(html.escape(REFERENCE)) == 2 and "(Alice, a@x.org)" in page
    boxes = re.findall(r"<input [^>]*>", page)
    assert len(boxes) == 2 and all('type="number"' in b and 'min="0" max="2" step="any"' in b for b in boxes)
    assert 'name="alice/q9"' in boxes[0] and 'value=""' in boxes[0] and 'value="1.5"' in boxes[1]
    assert "@media print" in page and "break-after:page" in page and "manual-scores.csv" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched


# --- the page in a real browser, from a real grading ----------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# Run in the page after its own script: score the two boxes, and show what the download
# button would save (manualScoresCsv) and whether the browser finds each box valid.
FILL_AND_SHOW = """<script>
const boxes = document.querySelectorAll("input.score");
boxes[0].value = "1.5";
boxes[1].value = "2";
const shown = document.createElement("pre");
shown.id = "shown";
shown.textContent = JSON.stringify({csv: manualScoresCsv(), valid: Array.from(boxes).map((b) => b.checkValidity())});
document.body.appendChild(shown);
</script>"""


def chromium_or_skip():
    """Debian's chromium; the test is skipped without it, except under CI."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed")
    return chromium


@pytest.mark.slow
def test_written_answers_page_from_a_real_grading_in_a_browser_and_its_scores_merged(build, tmp_path, monkeypatch,
                                                                                         capsys):
    """char_rnn_torch graded for real (its zip cut to q1, so that its notebooks' cells all run
    but one question is checked: about 5 s a submission), then the page rendered, printed and
    its download script run in chromium, and what it downloads merged with --manual."""
    chromium = chromium_or_skip()
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    built = build(LAB)
    reference = load_lab(LAB).manual_questions[0].answer
    with zipfile.ZipFile(built.autograder_zip) as source:
        assert json.loads(source.read("rnnlab_reference/written_questions.json"))[0]["reference_answer"] == reference
        cut = tmp_path / "q1-only.zip"
        with zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                if not item.filename.startswith("tests/") or item.filename == "tests/q1.py":
                    target.writestr(item, source.read(item))
    folder = tmp_path / "submissions"
    folder.mkdir()
    answers = {"alice": "Alice: the GRU, for its update gate.", "bob": "Bob: the RNN <b>is</b> cheaper & enough."}
    for name, answer in answers.items():
        notebook = nbformat.read(built.solution_notebook, as_version=4)
        next(c for c in notebook.cells if "otter_answer_cell" in c.metadata.get("tags", [])).source = answer
        nbformat.write(notebook, folder / f"{name}.ipynb")
    roster = write(tmp_path / "students.csv", "Submission,Name,Email,SID,Canvas ID\nalice,Ada Lovelace,ada@x.org,1815,502\n")
    out = tmp_path / "out"
    results = grade(LAB, [folder], out, autograder=cut, roster=roster, canvas_assignment="4711")
    assert [(r.submission, r.score, r.status) for r in results] == [("alice", 2, "ok"), ("bob", 2, "ok")]
    assert [r.written[0]["answer"] for r in results] == list(answers.values())
    assert reference not in (out / "alice" / "results.json").read_text()
    assert f"{roster}: 1 submission in no row, graded without a student: bob" in capsys.readouterr().err

    page = out / "written-answers.html"
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert html.escape(answers["alice"], quote=False) in dom and html.escape(answers["bob"], quote=False) in dom
    assert dom.count(html.escape(reference.splitlines()[0], quote=False)) == 2
    assert "Ada Lovelace, ada@x.org, 1815" in dom
    for name in answers:
        box = re.search(rf'<input [^>]*name="{name}/q9"[^>]*>', dom).group(0)
        assert 'type="number"' in box and 'min="0"' in box and 'max="2"' in box and 'step="any"' in box
    pdf = tmp_path / "written-answers.pdf"
    subprocess.run([chromium, *flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 2  # one submission a page

    variant = tmp_path / "filled.html"
    variant.write_text(page.read_text().replace("</body>", FILL_AND_SHOW + "</body>"))
    dom = subprocess.run([chromium, *flags, "--dump-dom", variant.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    shown = json.loads(html.unescape(re.search(r'<pre id="shown">(.*?)</pre>', dom, re.S).group(1)))
    assert shown["valid"] == [True, True]
    scores = write(tmp_path / "manual-scores.csv", shown["csv"])

    def must_not_grade(*args, **kwargs):
        raise AssertionError("a submission with a stored result was graded again")

    monkeypatch.setattr(batch.grading.Autograder, "grade", must_not_grade)
    again = grade(LAB, [folder], out, autograder=cut, manual_scores=scores, canvas_assignment="4711")
    assert [r.written_score for r in again] == [1.5, 2]
    stored = json.loads((out / "alice" / "results.json").read_text())
    assert stored["score"] == 3.5 and (stored["tests"][-1]["score"], stored["tests"][-1]["max_score"]) == (1.5, 2)
    assert list(csv.reader((out / "gradebook.csv").open()))[1:] == [
        ["alice", "Ada Lovelace", "ada@x.org", "1815", "2", "1.5", "3.5", "4", "ok"],
        ["bob", "", "", "", "2", "2", "4", "4", "ok"]]
    assert list(csv.reader((out / "canvas.csv").open())) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{LAB} (4711)"],
        ["    Points Possible", "", "", "", "", "4"],
        ["Ada Lovelace", "502", "1815", "", "", "3.5"],
        ["", "", "", "", "", "4"]]
    assert 'value="1.5"' in (out / "written-answers.html").read_text()  # the page shows what is merged
