"""Grading through the real autograder zip: full marks, robustness to bad submissions.

The zip's Gradescope entry point is graded in a fresh environment in test_fresh_environment.py."""

import json
import os
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from first_questions import ENGINE_QUESTIONS

from rnnlab.authoring.labs import load_lab
from rnnlab.authoring.variants import buggy_notebook, catalogue, write_submission
from rnnlab.batch import reports
from rnnlab.cli import main
from rnnlab_engine.grading import grade_submission, unpacked

pytestmark = pytest.mark.slow  # every test grades, or starts kernels

# The points of ENGINE_QUESTIONS, the questions the engine's own tests grade (first_questions.py).
FULL = sum(q.points for q in load_lab("rnn_lstm_numpy").questions.values() if q.name in ENGINE_QUESTIONS)


def notebook_with(solution_notebook, tmp_path, name, extra_cells, after=None):
    """The solution notebook plus code cells, appended or inserted after a cell containing ``after``."""
    notebook = nbformat.read(solution_notebook, as_version=4)
    position = len(notebook.cells)
    if after:
        position = next(i for i, c in enumerate(notebook.cells) if after in c.source) + 1
    for offset, source in enumerate(extra_cells):
        notebook.cells.insert(position + offset, nbformat.v4.new_code_cell(source))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def report_through_feedback(expression):
    """A cell that makes ``generate_dataset`` (q1) fail with the value of ``expression``: the
    way student code can show the world what it found, through its own feedback."""
    return (f"\n_found = {expression}\n"
            "def generate_dataset(*args, **kwargs):\n"
            "    raise RuntimeError('REPORT' + repr(_found) + 'END')\n")


def reported(result):
    """The value a ``report_through_feedback`` cell showed in the q1 feedback."""
    import ast
    output = next(q.output for q in result.questions if q.name == "q1")
    return ast.literal_eval(output.split("REPORT", 1)[1].split("END", 1)[0])


def scores(result):
    return {q.name: q.score for q in result.questions}


def test_demo_grades_the_examples_with_the_checkpoints_they_carry(corpus_folder, tmp_path, monkeypatch, capsys):
    from rnnlab import cli
    from rnnlab.authoring import build
    monkeypatch.setattr(cli, "DIST", tmp_path / "dist")
    monkeypatch.setattr(build, "STUDENT_TEMPLATE", tmp_path / "template")  # the committed one stays
    assert main(["demo", "char_rnn_torch", "--out", str(tmp_path / "out")]) == 0
    gradebook = (tmp_path / "out" / "char_rnn_torch" / "gradebook.csv").read_text().splitlines()
    totals = {row.split(",")[0]: row.split(",")[-3:] for row in gradebook[1:]}
    points = f"{load_lab('char_rnn_torch').points:g}"
    assert totals == {"char_rnn_torch-correct": [points, points, "ok"],
                      "char_rnn_torch-buggy-vocabulary_in_order_of_appearance": [f"{float(points) - 1:g}", points, "ok"]}
    assert f"{points}/{points}" in capsys.readouterr().out


def test_zip_submission_is_graded(first_questions_zip, first_questions_notebook, tmp_path):
    import zipfile
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(first_questions_notebook, "rnn_lstm_numpy.ipynb")
        out.writestr("notes.txt", "extra files are fine")
    result = grade_submission(first_questions_zip, archive)
    assert result.score == FULL


def test_a_kernel_started_ahead_grades_and_sees_nothing_of_the_last(first_questions_zip, first_questions_notebook,
                                                                       tmp_path):
    # The first notebook leaves a global and a file behind; the second, graded by a kernel
    # made ready while the first graded, must find neither, and pay no kernel start.
    leaves = notebook_with(first_questions_notebook, tmp_path, "leaves",
                           ["left_behind = 1\nopen('left_behind.txt', 'w').write('x')"])
    looks = notebook_with(first_questions_notebook, tmp_path, "looks", [
        "import os, sys\n"  # a kernel that dies is a note: the result is not "ok"
        "if 'numpy' not in sys.modules or 'left_behind' in globals() or os.path.exists('left_behind.txt'):\n"
        "    os._exit(3)"])
    with unpacked(first_questions_zip) as autograder:
        ahead = autograder.ready(looks)
        assert ahead.error is None and ahead._kernel is not None
        first = autograder.grade(leaves)
        second = autograder.grade(looks, ready=ahead)
        assert ahead._kernel is None  # taken, and closed by grade
    assert first.score == FULL and first.status == "ok", first.messages
    assert second.score == FULL and second.status == "ok", second.messages


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"this is not json", "not a valid Jupyter notebook"),
    (b'{"cells": [], "metadata": {}}', "not a Jupyter notebook in nbformat 4"),
    (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "has no code in it"),
    ("{\"cells\": [{\"cell_type\": \"code\", \"source\": \"x = 1\"}], \"nbformat\": 4}".encode(),
     "not a valid Jupyter notebook"),
])
def test_malformed_submissions_get_a_written_result(first_questions_zip, tmp_path, content, words):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = grade_submission(first_questions_zip, path)
    assert result.status == "invalid" and result.score == 0 and len(result.questions) == len(ENGINE_QUESTIONS)
    assert words in result.messages[0]
    reports.write_submission(tmp_path / "out", result)
    written = json.loads((tmp_path / "out" / "broken" / "results.json").read_text())
    assert written["score"] == 0 and words in written["output"]


def test_zip_without_a_notebook(first_questions_zip, tmp_path):
    import zipfile
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("readme.txt", "no notebook")
    result = grade_submission(first_questions_zip, archive)
    assert result.status == "invalid" and "exactly one .ipynb" in result.messages[0]


def test_zip_bomb_and_symbolic_links_are_refused_unread(first_questions_zip, first_questions_notebook, tmp_path):
    import zipfile
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notebook.ipynb", "{}")
        archive.writestr("padding.bin", b"\0" * (201 * 2**20))
    result = grade_submission(first_questions_zip, bomb)
    assert result.status == "invalid" and "at most 1000 files and 200 MB" in result.messages[0]
    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "mine.ipynb").symlink_to(first_questions_notebook)
    result = grade_submission(first_questions_zip, folder)
    assert result.status == "invalid" and result.score == 0 and "symbolic links (mine.ipynb)" in result.messages[0]


def test_exception_and_missing_function(first_questions_zip, first_questions_notebook, tmp_path):
    """A cell that raises, and a function deleted from the notebook: only its question fails."""
    path = notebook_with(first_questions_notebook, tmp_path, "raises",
                         ["raise RuntimeError('student bug')", "del forward_pass"])
    result = grade_submission(first_questions_zip, path)
    assert {n for n, s in scores(result).items() if s == 0} == {"q4"}
    q4 = next(q for q in result.questions if q.name == "q4")
    assert "forward_pass is not defined" in q4.output
    assert result.score == FULL - 2


def test_infinite_loop_in_a_top_level_cell(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "loops", ["while True:\n    pass"],
                         after="def generate_dataset")
    # The notebook's slowest cell imports torch in about 2 s.
    result = grade_submission(first_questions_zip, path, cell_time_limit=8)
    assert result.score == FULL and result.status == "partial"
    assert any("more than 8 s" in m for m in result.messages)


def test_infinite_loop_inside_a_graded_function(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "loops_in_q6",
                         ["def clip_gradient_norm(grads, max_norm=0.25):\n    while True:\n        pass"])
    # q5, the slowest of these questions, takes about 1 s.
    result = grade_submission(first_questions_zip, path, question_time_limit=10)
    q6 = next(q for q in result.questions if q.name == "q6")
    assert q6.status == "timeout" and "more than 10 s" in q6.output
    assert result.score == FULL - 3  # q6's 3 points, and every other question still graded


def test_os_exit_while_a_question_runs(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "exits",
                         ["import os\ndef one_hot_encode(idx, vocab_size):\n    os._exit(3)"])
    result = grade_submission(first_questions_zip, path)
    q3 = next(q for q in result.questions if q.name == "q3")
    assert q3.status == "died" and "kernel died" in q3.output
    assert {n for n, s in scores(result).items() if s == 0} == {"q3"}


def test_a_kernel_that_dies_while_the_notebook_is_replayed(first_questions_zip, tmp_path):
    """A cell that exits when it runs a second time kills every restarted kernel: each later
    cell and each question says so, and the submission still gets a written result.  (Every
    kernel starts from the submission as handed in, so only the clock tells a replay.)"""
    replayed_after = time.time() + 8  # the first run is a few seconds in; cell 2 waits past it
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        f"import os, time\nif time.time() > {replayed_after}:\n    os._exit(4)",
        f"while time.time() < {replayed_after} + 1:\n    time.sleep(0.1)\nos._exit(3)", "x = 1")])
    path = tmp_path / "dies_on_replay.ipynb"
    nbformat.write(notebook, path)
    result = grade_submission(first_questions_zip, path)
    assert result.score == 0 and {q.status for q in result.questions} == {"died"}
    assert all("died again while the cells that worked were replayed" in q.output for q in result.questions)
    assert "Code cell 3 was not run: the kernel was restarted, and died again" in " ".join(result.messages)


def test_sigkill_segfault_and_system_exit_while_questions_run(first_questions_zip, first_questions_notebook, tmp_path):
    """Each costs its own question only; the kernel is restarted for the next one."""
    path = notebook_with(first_questions_notebook, tmp_path, "crashes", [
        "import ctypes, os, signal\n"
        "def generate_dataset(*args, **kwargs):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "def sequences_to_dicts(*args, **kwargs):\n    ctypes.string_at(0)\n"
        "def one_hot_encode(*args, **kwargs):\n    raise SystemExit(1)\n"])
    result = grade_submission(first_questions_zip, path)
    by_name = {q.name: q for q in result.questions}
    assert by_name["q1"].status == by_name["q2"].status == "died"
    # Raised in the kernel, told with the function that raised it, not a check's line.
    assert "one_hot_encode raised SystemExit" in by_name["q3"].output, by_name["q3"].output
    assert {n for n, s in scores(result).items() if s == 0} == {"q1", "q2"}
    assert by_name["q3"].score == 1  # its create_datasets case still passes
    assert result.score == FULL - 2 - 2 - 1


def test_os_exit_in_a_top_level_cell(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "exits_top", ["import os\nos._exit(1)"],
                         after="def generate_dataset")
    result = grade_submission(first_questions_zip, path)
    assert result.score == FULL and any("kernel died" in m for m in result.messages)


def test_memory_bomb_is_stopped_and_reported(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "bomb",
                         ["import numpy as np\ndef sequences_to_dicts(sequences):\n"
                          "    hog = [np.ones(10**8) for _ in range(40)]\n    return hog"])
    result = grade_submission(first_questions_zip, path, memory_limit=768 * 2**20)
    q2 = next(q for q in result.questions if q.name == "q2")
    assert q2.status == "memory" and "memory limit of 768 MB" in q2.output
    assert result.score == FULL - 2


def test_nan_results_fail_with_a_message(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "nan",
                         ["import numpy as np\n_fine = update_parameters\n"
                          "def update_parameters(params, grads, lr=1e-3):\n"
                          "    return tuple(p * np.nan for p in _fine(params, grads, lr))"])
    result = grade_submission(first_questions_zip, path)
    q6 = next(q for q in result.questions if q.name == "q6")
    assert q6.score < 3 and "NaN or inf" in q6.output


def test_whole_submission_time_limit(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "slow", ["import time\ntime.sleep(60)"])
    result = grade_submission(first_questions_zip, path, time_limit=20, cell_time_limit=60, wall_limit=20)
    assert len(result.questions) == len(ENGINE_QUESTIONS) and all(q.score == 0 for q in result.questions)
    assert all(q.status == "timeout" for q in result.questions)
    assert result.seconds < 25  # a few seconds over at most: Gradescope stops a submission at a fixed time


def test_huge_output_is_truncated_and_the_grade_written(first_questions_zip, first_questions_notebook, tmp_path):
    path = notebook_with(first_questions_notebook, tmp_path, "chatty", [
        "for _ in range(300_000):\n    print('x' * 100)",
        "_quiet = one_hot_encode\ndef one_hot_encode(idx, vocab_size):\n"
        "    print('y' * 600_000)\n    return _quiet(idx, vocab_size)"])
    result = grade_submission(first_questions_zip, path)
    assert result.score == FULL
    assert any("showed more than 1,000,000 characters of output; dropped: 29," in m and "of text" in m
               for m in result.messages), result.messages
    assert any(m.startswith("While q3 was checked, your code showed more than 1,000,000") for m in result.messages), \
        result.messages


def test_kernels_alive_at_once_never_share_a_user_even_across_processes(tmp_path):
    import subprocess
    import sys
    from rnnlab_engine.isolation.probe import sandbox
    from rnnlab_engine.isolation.users import _has_account, claim_kernel_user, remove_files_of
    if not sandbox().separate_user:
        pytest.skip("kernels run as users of their own only where the grader is root")
    locks = tmp_path / "locks"  # of this test alone: another worker's kernels claim users too
    (first, first_lock), (second, second_lock) = claim_kernel_user(locks), claim_kernel_user(locks)
    assert first != second
    other_process = ("import fcntl, sys\n"
                     f"fcntl.flock(open({str(locks / str(first))!r}, 'r+'), fcntl.LOCK_EX | fcntl.LOCK_NB)")
    held = subprocess.run([sys.executable, "-c", other_process], capture_output=True, text=True)
    assert held.returncode != 0 and "BlockingIOError" in held.stderr
    first_lock.close()
    assert subprocess.run([sys.executable, "-c", other_process], capture_output=True).returncode == 0
    second_lock.close()
    # a user that still runs a process, or is an account of the system's, is not handed out
    leftover = subprocess.Popen(["setpriv", f"--reuid={first}", f"--regid={first}", "--clear-groups",
                                 "sleep", "60"])
    try:
        for _ in range(50):
            if psutil.Process(leftover.pid).uids().real == first:
                break
            time.sleep(0.1)
        with pytest.raises(RuntimeError, match="in use"):
            claim_kernel_user(locks, users=range(first, first + 1))
    finally:
        leftover.kill()
        leftover.wait()
    assert claim_kernel_user(locks, users=range(first, first + 1))[0] == first
    assert _has_account(0) and not _has_account(first)  # nor is root, or a service's account
    # what it left in the shared temporary folders goes, in sticky world-writable folders too
    shared = tmp_path / "shared-tmp"
    (shared / "sticky").mkdir(parents=True)
    (shared / "sticky").chmod(0o1777)
    for path in (shared / "answers.txt", shared / "sticky" / "hidden.txt"):
        path.write_text("q1")
        os.chown(path, first, first)
    (shared / "mine.txt").write_text("the grader's")
    remove_files_of(first, [shared])
    assert sorted(p.name for p in shared.rglob("*")) == ["mine.txt", "sticky"]


def test_pages_two_processes_map_count_once_in_the_watchdogs_measure(tmp_path):
    # torch's libraries are mapped by the kernel and the checker alike; in one container they
    # take their memory once, and counting them twice got correct submissions killed.
    import subprocess
    import sys

    from rnnlab_engine.kernel import _anonymous_size, _shared_pages
    pages = tmp_path / "pages"
    pages.write_bytes(b"x" * 64 * 2**20)
    reader = ("import mmap, sys\n"
              "f = open(sys.argv[1], 'rb')\n"
              "m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
              "sum(m[i] for i in range(0, len(m), 4096))\n"
              "print('mapped', flush=True)\n"
              "sys.stdin.read()")
    readers = [subprocess.Popen([sys.executable, "-c", reader, str(pages)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        assert [r.stdout.readline() for r in readers] == ["mapped\n"] * 2
        mib = 2**20
        resident = sum(psutil.Process(r.pid).memory_info().rss for r in readers) / mib
        shared = sum(_shared_pages(r.pid) for r in readers) / mib
        anonymous = [_anonymous_size(psutil.Process(r.pid)) / mib for r in readers]
    finally:
        for r in readers:
            r.kill()
            r.wait()
    assert resident > 128  # what summed resident sizes say: the file twice
    assert 64 <= shared < 64 + 2 * 16, shared  # once, beside each interpreter's own files
    assert all(a < 32 for a in anonymous), anonymous


VALID_ALTERNATIVES = [
    # forward_pass returns arrays, and backward_pass relies on getting arrays
    "_given_forward, _given_backward = forward_pass, backward_pass\n"
    "def forward_pass(inputs, hidden_state, params):\n"
    "    outputs, hidden_states = _given_forward(inputs, hidden_state, params)\n"
    "    return np.array(outputs), np.array(hidden_states)\n"
    "def backward_pass(inputs, outputs, hidden_states, targets, params):\n"
    "    return _given_backward(inputs, outputs, hidden_states + 0.0, targets, params)",
    # an LSTM cache laid out as a dict
    "_given_lstm_forward, _given_lstm_backward = lstm_forward, lstm_backward\n"
    "def lstm_forward(inputs, h_prev, C_prev, params):\n"
    "    outputs, cache = _given_lstm_forward(inputs, h_prev, C_prev, params)\n"
    "    return outputs, {'mine': cache}\n"
    "def lstm_backward(targets, cache, params):\n"
    "    return _given_lstm_backward(targets, cache['mine'], params)",
    # lists where tuples were written, tuples where lists were written
    "_given_dicts, _given_generate = sequences_to_dicts, greedy_generate\n"
    "def sequences_to_dicts(sequences):\n"
    "    word_to_idx, idx_to_word, count, size = _given_dicts(sequences)\n"
    "    return [word_to_idx, [idx_to_word[i] for i in range(size)], count, size]\n"
    "def greedy_generate(*args, **kwargs):\n"
    "    return tuple(_given_generate(*args, **kwargs))",
    # progress printed without a newline, and globals that shadow builtins
    "_given_train = train_rnn\n"
    "def train_rnn(*args, **kwargs):\n"
    "    import builtins\n"
    "    builtins.print('training', end=' | ')\n"
    "    return _given_train(*args, **kwargs)\n"
    "print = globals = json = sys = None",
]


def test_valid_alternative_solutions_get_full_marks_through_rnnlab_grade(built, solution_notebook, tmp_path, capsys):
    """Correct code written differently from the reference loses nothing (the reference itself
    is graded under every CPU profile in test_platforms)."""
    path = notebook_with(solution_notebook, tmp_path, "alternative", VALID_ALTERNATIVES)
    assert main(["grade", "rnn_lstm_numpy", str(path), "--out", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "alternative" / "results.json").read_text())
    assert results["score"] == 28 and results["rnnlab"]["status"] == "ok", results["rnnlab"]["messages"]
    questions = {q["name"]: q for q in results["rnnlab"]["questions"]}
    assert questions["q7"]["cpu_seconds"] > 1 and questions["q7"]["wall_seconds"] >= questions["q7"]["waited_seconds"]
    assert results["rnnlab"]["cpu_seconds"] >= sum(q["cpu_seconds"] for q in questions.values()) - 0.1
    assert len(results["tests"]) == 11 and all(t["score"] == t["max_score"] for t in results["tests"])
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert gradebook[0].startswith("submission,name,email,sid,q1,q2") and gradebook[1].endswith(",28,28,ok")
    assert "28/28" in capsys.readouterr().out


def test_corrupt_zip_and_a_file_named_tests(first_questions_zip, first_questions_notebook, tmp_path):
    import zipfile
    corrupt = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(corrupt, "w", zipfile.ZIP_STORED) as out:
        out.write(first_questions_notebook, "rnn_lstm_numpy.ipynb")
    data = bytearray(corrupt.read_bytes())
    data[100] ^= 0xFF  # inside the stored notebook: its CRC no longer matches
    corrupt.write_bytes(bytes(data))
    result = grade_submission(first_questions_zip, corrupt)
    assert result.status == "invalid" and "cannot be unpacked" in result.messages[0]
    shadowing = tmp_path / "shadowing.zip"
    with zipfile.ZipFile(shadowing, "w") as out:
        out.write(first_questions_notebook, "rnn_lstm_numpy.ipynb")
        out.writestr("tests", "a file where the tests folder goes")
        out.writestr("rnnlab_checks/__init__.py", "raise SystemExit('not the real checks')")
    assert grade_submission(first_questions_zip, shadowing).score == FULL


def test_checkpoints_missing_cost_only_their_questions_and_the_written_answer_is_carried(build, tmp_path):
    """char_rnn_torch's notebook handed in without its checkpoints: q7 and q8 say what to
    save, every other question is graded, and the written answer reaches the reports."""
    built = build("char_rnn_torch")
    result = grade_submission(built.autograder_zip, built.solution_notebook)
    lost = {q.name: q.output for q in result.questions if q.score < q.possible}
    assert sorted(lost) == ["q7", "q8"], lost
    assert "(char_rnn.pt) is missing: save it with torch.save(model.state_dict()" in lost["q7"]
    assert "(char_gru.pt) is missing" in lost["q8"]
    assert [w["name"] for w in result.written] == ["q9"] and "update gate" in " ".join(result.written[0]["answer"].split())
    stored = result.to_gradescope()
    assert any(t["name"].startswith("q9 (written") and t["max_score"] == 0 for t in stored["tests"])
    assert stored["score"] == result.possible - 6
    assert "graded by hand" in reports.feedback_page(result, [])


def test_otter_run_with_the_zip_grades_as_rnnlab_does(build, tmp_path):
    """``otter run -a <lab>-autograder.zip``, otter's own way to try a zip, runs the tests in the
    notebook's process, without rnnlab's limits and isolation: it must still give the same
    scores (the hidden tests reach the reference in the zip's source folder)."""
    built = build("char_rnn_numpy")
    variant = catalogue("char_rnn_numpy")[0]
    submissions = {"reference": built.solution_notebook,
                   variant.name: write_submission(buggy_notebook(built.solution_notebook, variant),
                                                  tmp_path / f"{variant.name}.ipynb")}
    possible = {q.name: q.points for q in load_lab("char_rnn_numpy").questions.values()}
    for name, notebook in submissions.items():
        subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(built.autograder_zip), "-o", str(tmp_path),
                        "--no-logo", str(notebook)], check=True, capture_output=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
        tests = json.loads((tmp_path / "results.json").read_text())["tests"]
        scores = {t["name"]: t["score"] for t in tests if t["name"] in possible}
        lost = {q for q in possible if scores[q] < possible[q]}
        assert lost == (set() if name == "reference" else {variant.question}), (name, scores)


def test_rnnlab_gradescope_tries_a_zip_as_gradescope_would(built, tmp_path, capsys):
    """``rnnlab gradescope ZIP NOTEBOOK``: the zip's own entry point in Gradescope's folders."""
    unfilled = built.student_notebook
    assert main(["gradescope", str(built.autograder_zip), str(unfilled), "--root", str(tmp_path / "root")]) == 0
    printed = capsys.readouterr().out
    assert "q1: 0 / 2\n" in printed and "\nscore: 0 / 28\n" in printed, printed
    assert json.loads((tmp_path / "root" / "results" / "results.json").read_text())["score"] == 0
    # a folder in use is never emptied: it is refused, in one line
    assert main(["gradescope", str(built.autograder_zip), str(unfilled), "--root", str(tmp_path / "root")]) == 1
    assert capsys.readouterr().err == f"rnnlab gradescope: ValueError: --root {tmp_path / 'root'} is not empty: " \
        "name a new or empty folder (rnnlab --debug gradescope ... shows the traceback)\n"


def test_a_checker_is_kept_for_the_next_submission_after_a_clean_end_only(first_questions_zip,
                                                                          first_questions_notebook, tmp_path):
    """Within a batch a checker grades one submission after another (its imports and the
    reference loaded once), with the verdicts a fresh one gives; one whose kernel went away
    in the middle of a question is stopped, never handed on."""
    exits = notebook_with(first_questions_notebook, tmp_path, "exits",
                          ["import os\ndef one_hot_encode(idx, vocab_size):\n    os._exit(3)"])
    fresh = grade_submission(first_questions_zip, first_questions_notebook)
    with unpacked(first_questions_zip) as autograder:
        first = autograder.grade(first_questions_notebook)
        [kept] = autograder._idle_checkers
        second = autograder.grade(first_questions_notebook)
        assert autograder._idle_checkers == [kept] and kept.submissions == 2  # the same process again
        for result in (first, second):
            assert [(q.name, q.score, q.cases) for q in result.questions] == \
                [(q.name, q.score, q.cases) for q in fresh.questions]
        autograder.grade(exits)  # q3's kernel dies while q3's checks wait for it
        assert kept.process.poll() is not None
        [after] = autograder._idle_checkers  # q4 on were checked by a new one, which ended cleanly
        assert after is not kept and after.process.poll() is None
    assert after.process.poll() is not None  # stopped with the batch
