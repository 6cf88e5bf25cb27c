"""The build: real otter assign, no solution in the student notebook, deterministic, in sync."""

import ast
import filecmp
import re
import shutil
import zipfile
from pathlib import Path

import nbformat

import pytest

from rnnlab.authoring.build import build_lab, refresh_student_template
from rnnlab_checks.corpora import CORPORA
from rnnlab_engine.grading import IGNORED_CELL_TAG
from importlib.metadata import version

from rnnlab import cli
from rnnlab.authoring.environments import CPU_TORCH_INDEX, grader_requirements, student_requirements
from rnnlab.authoring import labs
from rnnlab.authoring.labs import PACKAGES, ROOT, AuthoringError, available_labs, load_lab, read_settings

LABS = available_labs()


def stubbed_functions(source):
    """The module-level functions of a reference that students write (a solution region in
    their body): their stubs must keep signature and docstring."""
    lines = source.splitlines()
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)
            and "# BEGIN SOLUTION" in "\n".join(lines[node.lineno - 1:node.end_lineno])]


def solution_lines(source):
    """Lines between BEGIN/END SOLUTION in the reference module, stripped of indentation."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == "# BEGIN SOLUTION":
            inside = True
        elif line.strip() == "# END SOLUTION":
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_no_solution_line_reaches_the_student(build, lab):
    built = build(lab)
    solution = (ROOT / "solutions" / f"{lab}.py").read_text()
    student_code = "\n".join(c.source for c in nbformat.read(built.student_notebook, as_version=4).cells)
    student_lines = {line.strip() for line in student_code.splitlines()}
    # Lines such as "return one_hot" could legitimately appear elsewhere; every line with
    # real content must not.
    leaked = [line for line in solution_lines(solution)
              if len(line) > 12 and not line.startswith("#") and line in student_lines]
    assert solution_lines(solution), "the reference has no solution regions"
    assert leaked == []
    assert "# BEGIN SOLUTION" not in student_code
    with zipfile.ZipFile(built.student_bundle) as bundle:
        names = bundle.namelist()
    assert f"{lab}.ipynb" in names and "tests/q5.py" in names and "rnnlab_checks/gradients.py" in names
    assert not any("rnnlab_reference" in n for n in names)
    assert [n for n in names if n.startswith("data/")] == [f"data/{CORPORA[c].filename}" for c in load_lab(lab).corpora]


@pytest.mark.slow
def test_public_tests_only_for_students(built):
    public = (built.student_notebook.parent / "tests" / "q5.py").read_text()
    assert "hidden=False" in public and "hidden=True" not in public
    with zipfile.ZipFile(built.autograder_zip) as archive:
        full = archive.read("tests/q5.py").decode()
        assert "hidden=True" in full
        names = archive.namelist()
    # The reference is for the checker only: not in files/, which goes next to the notebook.
    assert "rnnlab_reference/solution.py" in names
    assert not any(n.startswith("files/rnnlab_reference") for n in names)
    assert "python -m rnnlab_engine.gradescope" in zipfile.ZipFile(built.autograder_zip).read(
        "run_autograder").decode()


@pytest.mark.slow
def test_only_what_is_handed_out_or_uploaded_is_left_in_dist(built):
    folder = built.autograder_zip.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "build", "rnn_lstm_numpy-autograder.zip", "rnn_lstm_numpy-student.zip", "student"]
    assert sorted(folder.rglob("*.zip")) == sorted([built.autograder_zip, built.student_bundle])
    # Gradescope's setup installs what the students' requirements.txt pins (the CPU build of torch)
    environment = zipfile.ZipFile(built.autograder_zip).read("environment.yml").decode()
    student = (built.student_notebook.parent / "requirements.txt").read_text()
    for line in grader_requirements("rnn_lstm_numpy"):
        assert f"- {line}\n" in environment and f"{line}\n" in student
    assert "jupyterlab==" in student and "README.md" in zipfile.ZipFile(built.student_bundle).namelist()


@pytest.mark.parametrize("lab", LABS)
def test_requirements_pin_what_this_environment_runs(lab):
    """The zip installs the versions the lab was built and tested with; torch (for a lab whose
    reference imports it) as the CPU build, unless built for GPU runners."""
    needs_torch = "import torch" in (ROOT / "solutions" / f"{lab}.py").read_text()
    cpu, gpu = grader_requirements(lab), grader_requirements(lab, gpu=True)
    assert f"numpy=={version('numpy')}" in cpu and f"matplotlib=={version('matplotlib')}" in cpu
    assert (f"torch=={version('torch').split('+')[0]}" in cpu) == needs_torch
    assert (cpu[0] == f"--extra-index-url {CPU_TORCH_INDEX}") == needs_torch
    assert gpu == [line for line in cpu if not line.startswith("--")]
    student = student_requirements(lab).splitlines()
    assert set(cpu) <= set(student) and f"otter-grader[grading]=={version('otter-grader')}" in student


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_the_zips_python_is_the_engine_the_checks_and_the_lab(build, lab):
    """Each shipped unit is a folder that ships whole: the engine, the checks library, and the
    lab's own tests, checks and reference."""
    built = build(lab)

    def python_of(folder, prefix=""):
        return {prefix + p.relative_to(folder).as_posix() for p in folder.rglob("*.py") if "__pycache__" not in p.parts}

    lab_folder = ROOT / "assignments" / lab
    expected = (python_of(PACKAGES / "rnnlab_engine", "rnnlab_engine/")
                | python_of(PACKAGES / "rnnlab_checks", "files/rnnlab_checks/")
                | {f"tests/{p.name}" for p in (lab_folder / "tests").glob("*.py")}
                | ({"files/lab_checks.py"} if (lab_folder / "lab_checks.py").exists() else set())
                | {"rnnlab_reference/__init__.py", "rnnlab_reference/solution.py"})
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert {n for n in archive.namelist() if n.endswith(".py")} == expected
    with zipfile.ZipFile(built.student_bundle) as bundle:
        shipped = {n for n in bundle.namelist() if n.endswith(".py")}
    # students get the same checks and lab checks, and the public half of the same test files
    assert shipped == ({n.removeprefix("files/") for n in expected if n.startswith("files/")}
                       | {n for n in expected if n.startswith("tests/")})


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_stubs_keep_signatures(build, lab):
    source = "\n".join(c.source for c in nbformat.read(build(lab).student_notebook, as_version=4).cells)
    stubbed = stubbed_functions((ROOT / "solutions" / f"{lab}.py").read_text())
    assert stubbed
    for name in stubbed:
        assert re.search(rf"def {name}\([^)]*\):\n    \"\"\"", source)
    assert "    ..." in source


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_build_is_deterministic(build, lab, tmp_path):
    built = build(lab)
    again = build_lab(lab, dist=tmp_path, refresh_template=False)
    assert again.student_notebook.read_bytes() == built.student_notebook.read_bytes()
    assert again.autograder_zip.read_bytes() == built.autograder_zip.read_bytes()


def cell_contents(path):
    """What a student sees of a notebook: cell types, sources and tags (not format details)."""
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in notebook.cells]


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_student_template_is_up_to_date(build, lab):
    built = build(lab)
    template = ROOT / "student_template" / lab
    assert cell_contents(template / f"{lab}.ipynb") == cell_contents(built.student_notebook), \
        "student_template is stale: run `rnnlab build` and commit student_template/"
    comparison = filecmp.dircmp(template / "tests", built.student_notebook.parent / "tests")
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files


@pytest.mark.parametrize("name", LABS)
def test_every_lab_loads(name):
    """load_lab refuses a question without public and hidden tests, points that do not add
    up, and a lab.toml that does not fit: every lab passes."""
    lab = load_lab(name)
    assert lab.points > 0 and lab.student.unfilled_question in lab.questions


@pytest.mark.parametrize("toml, words", [
    ("points = 28", "unknown setting 'points'; the settings are corpora, handed_in_files, student (a question's "
     "points are its tests'"),
    ("corpus = []", "unknown setting 'corpus' (did you mean 'corpora'?)"),
    ("[student]\nunfiled = {}", "lab.toml:2: unknown setting student.unfiled (did you mean 'unfilled'?)"),
    ("corpora = ['war_and_peace']", "corpora should be a list of"),
    ("handed_in_files = ['model.pt']", "handed_in_files should list the notebook's variables"),
    ("[student]\nunfilled = { question = 'q99', message = 'x' }", "student.unfilled should be"),
    ("[student]\nunfilled = { question = 'q4', message = 'x' }\nshortened = ['a']",
     "student.shortened should be [find, replace]"),
    ("points = [", "lab.toml: Invalid value"),
    ("corpora = [\n 'sherlock' 'x']", "lab.toml:2: Unclosed array"),
])
def test_lab_toml_refuses_what_does_not_fit(tmp_path, toml, words):
    lab = load_lab("rnn_lstm_numpy")
    (tmp_path / "lab.toml").write_text(toml)
    with pytest.raises(AuthoringError, match=re.escape(words)):
        read_settings(lab, tmp_path / "lab.toml")
    with pytest.raises(AuthoringError, match="absent.toml: missing; create it"):
        read_settings(lab, tmp_path / "absent.toml")


@pytest.fixture
def lab_copy(tmp_path, monkeypatch):
    """rnn_lstm_numpy's files in a folder of their own, where the build looks for labs: a
    function that edits one of them (path under the folder, text to find, replacement)."""
    shutil.copytree(ROOT / "assignments" / "rnn_lstm_numpy", tmp_path / "assignments" / "rnn_lstm_numpy")
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "rnn_lstm_numpy.py", tmp_path / "solutions")
    monkeypatch.setattr(labs, "ASSIGNMENTS", tmp_path / "assignments")
    monkeypatch.setattr(labs, "SOLUTIONS", tmp_path / "solutions")

    def edit(path, old, new):
        path = tmp_path / path
        if old is None:  # a new file
            path.write_text(new)
            return path
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))
        return path
    return edit


def test_an_authors_own_comments_and_other_fences_stay_text(lab_copy):
    """Only markers (or words close to them) are markers: a TODO, or a marker shown in a fence of
    another language, is the author's text."""
    lab_copy(NARRATIVE, "<!-- question: q2 -->", "<!-- TODO: shorter -->\n<!-- codes are fun -->\n"
             "```markdown\n<!-- code: not_a_section -->\n```\n<!-- question: q2 -->")
    lab = load_lab("rnn_lstm_numpy")
    assert "<!-- TODO: shorter -->" in lab.questions["q1"].prompt or any(
        "<!-- TODO: shorter -->" in value for kind, value in lab.blocks if kind == "markdown")


NARRATIVE = "assignments/rnn_lstm_numpy/narrative.md"
Q2_TESTS = "assignments/rnn_lstm_numpy/tests/q2.py"
MARKERS = "markers are <!-- code: ... -->, <!-- question: ... -->, <!-- solution: ... -->, <!-- answer --> and <!-- /answer -->"


@pytest.mark.parametrize("path, old, new, message", [
    (NARRATIVE, "<!-- question: q2 -->", "<!-- questoin: q2 -->",
     f"{NARRATIVE}:46: unknown marker 'questoin' (did you mean 'question'?); {MARKERS}"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- question: q2 pionts=2 -->",
     f"{NARRATIVE}:46: unknown flag 'pionts=2' in question q2 (did you mean 'points'?); a question takes "
     "manual and points=N (points for a manual question only)"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- question: q2 manaul -->",
     f"{NARRATIVE}:46: unknown flag 'manaul' in question q2 (did you mean 'manual'?); a question takes "
     "manual and points=N (points for a manual question only)"),
    (NARRATIVE, "<!-- question: q3 -->", "<!-- question: q2 -->",
     f"{NARRATIVE}:63: question q2 is declared twice (first at line 46); give this one another name"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- question: q2 points=2 -->",
     f"{NARRATIVE}:46: points=2 on autograded question q2: its points are its tests'; remove points= here and "
     "give them with @public(points=..)/@hidden(points=..) in tests/q2.py"),
    (NARRATIVE, "<!-- solution: sequences_to_dicts -->", "<!-- solution: sequence_to_dicts -->",
     f"{NARRATIVE}:49: solution section 'sequence_to_dicts' is not in solutions/rnn_lstm_numpy.py (did you mean "
     "'sequences_to_dicts'?); its sections: "),
    (NARRATIVE, "<!-- solution: sequences_to_dicts -->", "", f"{NARRATIVE}:46: question q2 has no <!-- solution: ... "
     "--> marker; end its prompt with the solution sections it asks for"),
    (NARRATIVE, "<!-- code: setup -->", "", "solutions/rnn_lstm_numpy.py:15: section 'setup' is never placed in "
     f"the narrative; add <!-- code: setup --> to {NARRATIVE}, or list it in a question's <!-- solution: ... -->"),
    (Q2_TESTS, "@hidden(", "@public(", f"{Q2_TESTS}: question q2 has no @hidden test; each question needs at "
     "least one @public test (what grader.check runs for students) and one @hidden test (run only while grading)"),
    (Q2_TESTS, "@public(points=", "@public(pionts=", f"{Q2_TESTS}:4: unknown argument 'pionts' of @public (did you "
     "mean 'points'?); it takes points=N"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- question q2 -->",
     f"{NARRATIVE}:46: <!-- question ... --> needs a colon; write <!-- question: q2 -->"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- /answer -->\n<!-- question: q2 -->",
     f"{NARRATIVE}:46: <!-- /answer --> closes no answer block; open it with <!-- answer -->"),
    (NARRATIVE, "<!-- code: setup -->", "~~~text\n<!-- code: setup -->",
     f"{NARRATIVE}:22: this block is never closed; close it with ~~~"),
    (NARRATIVE, "<!-- question: q2 -->", "<!-- question: q2 -->\n```python\nx = 1\n```",
     f"{NARRATIVE}:52: <!-- solution: sequences_to_dicts --> after the code cell at line 47, which ended q2's "
     "prompt; a prompt is text only: move that code cell before <!-- question: q2 -->"),
    ("solutions/rnn_lstm_numpy.py", "# %% [setup]", "# %% [setup]\n# %% [setup]",
     "solutions/rnn_lstm_numpy.py:16: section 'setup' is cut twice (first at line 15); give one of them another name"),
    (Q2_TESTS, "@public(", "@hidden(", f"{Q2_TESTS}: question q2 has no @public test"),
    (Q2_TESTS, '"""q2: sequences_to_dicts."""', "def", f"{Q2_TESTS}:1: syntax error: invalid syntax"),
    ("assignments/rnn_lstm_numpy/tests/q99.py", None, "@public(points=1)\ndef test_x(): pass\n",
     "assignments/rnn_lstm_numpy/tests/q99.py: no "
     f"autograded question q99 in {NARRATIVE}; add <!-- question: q99 --> there, or delete this file"),
    ("assignments/rnn_lstm_numpy/lab.toml", "[student]", "handed_in_files = ['MODEL_FILE']\n[student]",
     "assignments/rnn_lstm_numpy/lab.toml: handed_in_files names MODEL_FILE, which solutions/rnn_lstm_numpy.py "
     "never sets; name the variables holding the file names"),
    ("assignments/rnn_lstm_numpy/lab.toml", "[student]", "points = 28\n[student]",
     "unknown setting 'points'; the settings are"),
])
def test_an_authoring_mistake_is_one_line_with_its_file_line_and_fix(lab_copy, capsys, path, old, new, message):
    edited = lab_copy(path, old, new)
    assert cli.main(["build", "rnn_lstm_numpy"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    shown = line.replace(str(edited.parents[len(Path(path).parts) - 1]) + "/", "")
    assert shown.startswith("rnnlab build: ") and message in shown, shown
    with pytest.raises(AuthoringError):  # the traceback, for whoever debugs the build
        cli.main(["--debug", "build", "rnn_lstm_numpy"])


@pytest.mark.slow
def test_corpora_travel_with_the_zips_not_the_template(build, corpus_folder, tmp_path):
    """The checks read the corpus offline from the autograder zip (not from the submission's
    folder); students get the same copy in data/ beside the notebook; git gets none."""
    built = build("char_rnn_numpy")
    course_copy = (corpus_folder / "sherlock.txt").read_bytes()
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert archive.read("rnnlab_reference/data/sherlock.txt") == course_copy
        assert not any(n.startswith("files/") and n.endswith(".txt") for n in archive.namelist())
    with zipfile.ZipFile(built.student_bundle) as archive:
        assert archive.read("data/sherlock.txt") == course_copy
    student = built.student_notebook.parent
    refresh_student_template(student, tmp_path / "template")
    assert (student / "data" / "sherlock.txt").is_file() and not list((tmp_path / "template").rglob("*.txt"))
    notebook = nbformat.read(built.student_notebook, as_version=4)
    skipped = [c.source for c in notebook.cells if IGNORED_CELL_TAG in c.metadata.get("tags", [])]
    assert any("load_corpus" in s for s in skipped) and any("train(text" in s for s in skipped)


@pytest.mark.slow
def test_hand_in_cell_zips_the_checkpoints_and_the_written_question_is_manual(build):
    built = build("char_rnn_torch")
    notebook = nbformat.read(built.student_notebook, as_version=4)
    hand_ins = [c.source for c in notebook.cells if c.cell_type == "code" and "hand_in(" in c.source]
    assert len(hand_ins) == 1 and "hand_in(grader, globals(), 'RNN_CHECKPOINT', 'GRU_CHECKPOINT')" in hand_ins[0]
    assert notebook.cells[-1].source == hand_ins[0]
    assert "**q9** (2 points, graded by hand)" in "".join(c.source for c in notebook.cells)
    answers = [c for c in notebook.cells if "otter_answer_cell" in c.metadata.get("tags", []) and c.cell_type == "markdown"]
    assert len(answers) == 1 and "update gate" not in answers[0].source  # the reference answer stays out
    with zipfile.ZipFile(built.autograder_zip) as archive:
        assert "tests/q9.py" not in archive.namelist()
        assert b'"name": "q9"' in archive.read("rnnlab_reference/written_questions.json")
