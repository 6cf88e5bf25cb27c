"""``rnnlab build``: reference solution + narrative + tests -> otter master notebook ->
``otter assign`` -> student notebook, Gradescope zip and student bundle.

Each step is a small function; ``build_lab`` runs them in order.
"""

import hashlib
import logging
import io
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import nbformat
import yaml

from rnnlab_checks.corpora import CORPORA, corpus_path
from rnnlab_checks.reference import FIXTURES_FOLDER, REFERENCE_MODULE, REFERENCE_PACKAGE
from rnnlab_engine.grading import IGNORED_CELL_TAG, REFERENCE_ANSWER, WRITTEN_QUESTIONS

from .environments import engine_requirements, grader_requirements, student_requirements, uses_torch
from .labs import ASSIGNMENTS, PACKAGES, ROOT, SOLUTIONS, Lab, lab_module, load_lab, reference_module

CHECKS_PACKAGE = "rnnlab_checks"
ENGINE_PACKAGE = "rnnlab_engine"
# A lab's own checks, shipped beside its tests (for students and the grader alike).
LAB_CHECKS = "lab_checks.py"
DIST = ROOT / "dist"
STUDENT_TEMPLATE = ROOT / "student_template"
# What the build makes on its way (otter's master notebook and its output): dist/<lab>/ itself
# holds only what is handed out or uploaded, the two zips and the student folder they come from.
BUILD_FOLDER = "build"
# Fixed timestamp for the zip members, so that the same inputs give the same bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    """Paths of what ``build_lab`` wrote."""

    lab: str
    student_notebook: Path
    autograder_zip: Path
    student_bundle: Path

    @property
    def solution_notebook(self):
        """The full-solution notebook that otter assign wrote (kept out of the uploads)."""
        return solution_notebook(self.autograder_zip.parent.parent, self.lab)


def solution_notebook(dist, lab):
    """Where the build of ``lab`` in ``dist`` keeps the full-solution notebook."""
    return Path(dist) / lab / BUILD_FOLDER / "otter" / "autograder" / f"{lab}.ipynb"


def build_lab(name, dist=DIST, refresh_template=True, gpu=False):
    """Build lab ``name`` into ``dist/<name>/`` and refresh ``student_template/<name>/``.
    ``gpu``: the autograder zip installs PyPI's default (CUDA) torch, for GPU runners."""
    lab = load_lab(name)
    out = Path(dist) / name
    staging = out / BUILD_FOLDER / "master"
    if out.exists():
        shutil.rmtree(out)
    staging.mkdir(parents=True)
    log.info("%s: staging the checks, the reference, its corpora and fixtures", name)
    stage_support_files(lab, staging, gpu)
    master = staging / f"{name}.ipynb"
    nbformat.write(master_notebook(lab), master)
    log.info("%s: otter assign", name)
    otter_out = out / BUILD_FOLDER / "otter"
    run_otter_assign(master, otter_out)
    student_dir = out / "student"
    shutil.copytree(otter_out / "student", student_dir)
    normalise_notebook(student_dir / f"{name}.ipynb")
    add_corpora(lab, student_dir / "data")
    (student_dir / "requirements.txt").write_text(student_requirements(name))
    (student_dir / "README.md").write_text(STUDENT_README.format(
        lab=name, size="1.3 GB, most of it torch" if uses_torch(name) else "0.6 GB"))
    result = BuildResult(name, student_dir / f"{name}.ipynb",
                         gradescope_zip(otter_out / "autograder", out / f"{name}-autograder.zip"),
                         bundle(student_dir, out / f"{name}-student.zip"))
    if refresh_template:
        refresh_student_template(student_dir, STUDENT_TEMPLATE / name)
    return result


def stage_support_files(lab, staging, gpu=False):
    """Copy the checks library and the lab's own checks (for everyone), and the reference and
    the corpora its checks read (autograder only); write the zip's requirements."""
    shutil.copytree(PACKAGES / CHECKS_PACKAGE, staging / CHECKS_PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    if LAB_CHECKS in shared_files(lab):
        shutil.copy(ASSIGNMENTS / lab.name / LAB_CHECKS, staging / LAB_CHECKS)
    reference = staging / REFERENCE_PACKAGE
    reference.mkdir()
    (reference / "__init__.py").write_text('"""The reference solution: autograder only."""\n')
    shutil.copy(SOLUTIONS / f"{lab.name}.py", reference / f"{REFERENCE_MODULE}.py")
    add_corpora(lab, reference / "data", warn=True)  # the grader reads them offline
    freeze_fixtures(lab, reference / FIXTURES_FOLDER)
    if lab.manual_questions:  # the grader carries their answers into the reports
        (reference / WRITTEN_QUESTIONS).write_text(json.dumps(
            [{"name": q.name, "points": q.points, "prompt": q.prompt, REFERENCE_ANSWER: q.answer}
             for q in lab.manual_questions], indent=1))
    (staging / "requirements.txt").write_text("\n".join(grader_requirements(lab.name, gpu) + engine_requirements()) + "\n")


def freeze_fixtures(lab, folder):
    """Run the lab's fixture builders (``FIXTURES`` in ``assignments/<lab>/fixtures.py``: name ->
    function of the reference module returning named float64 arrays) and write each result
    to ``folder/<name>.npz``.  What a check needs from training is made here, once, so that
    no check trains while grading (where the rounding of the grader's CPU would decide)."""
    module = lab_module(lab.name, "fixtures")
    if module is None:
        return
    reference = reference_module(lab.name)
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in module.FIXTURES.items():
        write_arrays(folder / f"{name}.npz", make(reference))


def write_arrays(path, arrays):
    """``np.savez`` with fixed dates inside, so that the same arrays give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, array in sorted(arrays.items()):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, buffer.getvalue())


def add_corpora(lab, folder, warn=False):
    """Copy the corpora the lab reads into ``folder``: for the grader, and for students, who
    must train on the very text the grader reads (a Gutenberg download is another edition,
    with other characters).  ``warn``: say so when a copy is not the course's."""
    for name in lab.corpora:
        folder.mkdir(parents=True, exist_ok=True)
        path = corpus_path(name)
        if warn and CORPORA[name].sha256 and hashlib.sha256(path.read_bytes()).hexdigest() != CORPORA[name].sha256:
            print(f"rnnlab build {lab.name}: {path} is not the course's copy of {CORPORA[name].filename} "
                  "that the checks' thresholds were calibrated on (see docs/instructor.md, Corpora); the build "
                  "hands it out anyway.", file=sys.stderr)
        shutil.copy(path, folder / CORPORA[name].filename)


def shared_files(lab):
    """What goes next to the notebook, for students and the grader alike: the checks library,
    and the lab's own checks where it has them."""
    return [CHECKS_PACKAGE] + ([LAB_CHECKS] if (ASSIGNMENTS / lab.name / LAB_CHECKS).is_file() else [])


def assignment_config(lab):
    """The ASSIGNMENT CONFIG of the master notebook."""
    return {
        "name": lab.name,
        "requirements": "requirements.txt",
        "files": shared_files(lab),
        "autograder_files": [REFERENCE_PACKAGE],
        "tests": {"files": True, "ok_format": False},
        "init_cell": False,  # the notebook's own first cell also checks the environment
        "export_cell": False,  # the hand-in cell checks the files before writing the zip
        "check_all_cell": False,
        "run_tests": False,
        "generate": {"pdf": False, "show_hidden": False, "show_stdout": False},
    }


def master_notebook(lab: Lab):
    """The otter-assign master notebook: narrative, solution cells, test cells."""
    cells = [raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(assignment_config(lab), sort_keys=False)),
             locked(nbformat.v4.new_code_cell(SETUP_CELL.format(lab=lab.name)))]
    for kind, value in lab.blocks:
        if kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(value))
        elif kind == "python":
            cells.append(nbformat.v4.new_code_cell(value))
        elif kind == "python skip-when-grading":  # otter's tag: neither otter nor rnnlab runs it
            cells.append(nbformat.v4.new_code_cell(value, metadata={"tags": [IGNORED_CELL_TAG]}))
        elif kind == "code":
            cells.append(nbformat.v4.new_code_cell(lab.sections[value]))
        else:
            cells.extend(question_cells(lab, lab.questions[value]))
    cells += [locked(nbformat.v4.new_markdown_cell(HAND_IN_TEXT)), locked(nbformat.v4.new_code_cell("grader.check_all()")),
              locked(nbformat.v4.new_code_cell(HAND_IN_CELL.format(files="".join(
                  f", {name!r}" for name in lab.handed_in_files))))]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def question_cells(lab, question):
    """BEGIN QUESTION ... END QUESTION for one question, in otter assign's format; its prompt
    starts with its points."""
    config = f"# BEGIN QUESTION\nname: {question.name}\npoints: {question.points:g}"
    cells = [raw(config + ("\nmanual: true" if question.manual else ""))]
    worth = f"**{question.name}** ({question.points:g} point{'s' if question.points != 1 else ''}"
    worth += ", graded by hand)" if question.manual else ")"
    cells.append(nbformat.v4.new_markdown_cell(f"{worth} {question.prompt}".strip()))
    if question.manual:  # a written answer: otter replaces it by a prompt to type one
        return cells + [raw("# BEGIN SOLUTION"), nbformat.v4.new_markdown_cell(question.answer),
                        raw("# END SOLUTION"), raw("# END QUESTION")]
    cells.append(raw("# BEGIN SOLUTION"))
    cells.extend(nbformat.v4.new_code_cell(lab.sections[s]) for s in question.solution_sections)
    cells.append(raw("# END SOLUTION"))
    cells.append(raw("# BEGIN TESTS"))
    for test in question.tests:
        config = f'""" # BEGIN TEST CONFIG\npoints: {test.points:g}\nhidden: {str(test.hidden).lower()}\n""" # END TEST CONFIG\n'
        cells.append(nbformat.v4.new_code_cell(config + test.source))
    cells.append(raw("# END TESTS"))
    cells.append(raw("# END QUESTION"))
    return cells


# The notebook's first cell: what is missing from the student's Python, in one line, before
# anything else fails on it; then otter's notebook API (a no-op while rnnlab grades).
SETUP_CELL = """\
# Set-up: checks that this Python has what the grader runs (requirements.txt beside this notebook).
try:
    from rnnlab_checks.environment import check_environment
except ModuleNotFoundError:
    raise FileNotFoundError("rnnlab_checks/ is not beside this notebook: open it in the folder of "
                            "{lab}-student.zip, unzipped (on Colab, upload the whole folder)") from None
check_environment()
import otter
grader = otter.Notebook("{lab}.ipynb")"""
HAND_IN_TEXT = """\
## Hand-in

The first cell below runs every check again. The second writes the zip to upload: save the
notebook first (the zip holds it as last saved); it checks that everything to hand in is here,
names what is missing, and writes nothing then."""
HAND_IN_CELL = """\
from rnnlab_checks.hand_in import hand_in
hand_in(grader, globals(){files})"""
STUDENT_README = """\
# {lab}

Install what the grader runs (Python 3.11 or newer; {size}), once:

    python3 -m venv .venv && .venv/bin/pip install --no-compile -r requirements.txt

Open the notebook:

    .venv/bin/jupyter lab {lab}.ipynb

On Windows, `.venv\\Scripts\\pip` and `.venv\\Scripts\\jupyter`. On Colab or a JupyterHub,
upload this folder, run `!pip install -r requirements.txt` in a cell once and restart the
kernel. The notebook's first cell says in one line what is missing; `grader.check("q1")` and
so on check a question; the last cell writes the zip to hand in.
"""


def locked(cell):
    """A cell students cannot edit or delete (as otter makes its own)."""
    cell.metadata.update({"deletable": False, "editable": False})
    return cell


def raw(text):
    """A raw cell (otter assign reads its directives from raw cells)."""
    return nbformat.v4.new_raw_cell(text)


def run_otter_assign(master, out):
    """Run the real ``otter assign``; its output goes to ``out/student`` and ``out/autograder``."""
    completed = subprocess.run(
        [sys.executable, "-m", "otter", "assign", str(master.name), str(out.resolve())],
        cwd=master.parent, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"otter assign failed:\n{completed.stdout}\n{completed.stderr}")


def normalise_notebook(path):
    """Give cells stable ids so that the same inputs build the same student notebook."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:12]
    nbformat.write(notebook, path)


# The grading engine (rnnlab_engine) runs inside the zip on Gradescope: rnnlab's own runner.
RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# rnnlab grades with its own runner: limits, a kernel of its own user without network,
# and the tests and the reference solution out of the student code's reach.
export PATH=/root/miniforge3/bin:$PATH
eval "$(mamba shell hook --shell bash)"
mamba activate otter-env
chmod 700 /autograder/source /autograder/results 2>/dev/null
# The kernel's user must reach the Python that setup.sh installed under /root.
chmod 711 /root
cd /autograder/source && python -m rnnlab_engine.gradescope
# Whatever happened above, Gradescope gets a result.
[ -s /autograder/results/results.json ] || echo '{"score": 0, "tests": [], "output": "The grader stopped before writing a result; ask your course staff to grade this submission again."}' > /autograder/results/results.json
"""


def gradescope_zip(autograder_dir, target):
    """Otter's timestamped ``*-autograder_<time>.zip`` rebuilt under a stable name, with
    fixed dates, the reference moved out of ``files/`` (which goes to students' folders),
    rnnlab's engine added and ``run_autograder`` calling it.  Otter's own zip is deleted: only
    this one is meant for upload."""
    zips = sorted(autograder_dir.glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"expected one autograder zip in {autograder_dir}, found {zips}")
    members = {}
    with zipfile.ZipFile(zips[0]) as source:
        for item in source.infolist():
            if not item.is_dir() and item.filename not in ("run_autograder", "run_otter.py"):
                members[item.filename.removeprefix("files/") if item.filename.startswith(
                    f"files/{REFERENCE_PACKAGE}/") else item.filename] = source.read(item)
    for path in sorted((PACKAGES / ENGINE_PACKAGE).rglob("*.py")):
        members[path.relative_to(PACKAGES).as_posix()] = path.read_bytes()
    members["run_autograder"] = RUN_AUTOGRADER.encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = (0o755 if name == "run_autograder" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, members[name])
    zips[0].unlink()
    return target


def bundle(student_dir, target):
    """The zip handed to students: the notebook, its public tests, the checks library and the
    lab's corpora (``data/``)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(student_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(path.relative_to(student_dir)), ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, path.read_bytes())
    return target


def refresh_student_template(student_dir, template_dir):
    """Copy the student notebook and its public tests into the committed template."""
    if template_dir.exists():
        shutil.rmtree(template_dir)
    template_dir.mkdir(parents=True)
    for path in sorted(student_dir.iterdir()):
        if path.suffix == ".ipynb":
            shutil.copy(path, template_dir / path.name)
        elif path.name == "tests":
            shutil.copytree(path, template_dir / "tests")
