"""``rnnlab gradescope ZIP SUBMISSION...``: an autograder zip tried on a submission as
Gradescope would run it, before it is uploaded.

The zip is unpacked into ``ROOT/source``, the submission put into ``ROOT/submission`` (files as
they are, a zip unpacked, as Gradescope does with an upload), and the zip's own
``rnnlab_engine`` runs from ``ROOT/source`` as its ``run_autograder`` runs it, in this Python
(Gradescope's ``setup.sh`` installs the zip's requirements first; here they are assumed).
"""

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def main(autograder, submission, root=None):
    """Grade ``submission`` (paths) with the zip ``autograder`` in ``root`` (default: a
    temporary folder) and print the score of each test; 0 if the grader wrote a result."""
    if not zipfile.is_zipfile(autograder):
        raise ValueError(f"{autograder} is not a zip file")
    if root and Path(root).exists() and any(Path(root).iterdir()):
        raise ValueError(f"--root {root} is not empty: name a new or empty folder")
    with tempfile.TemporaryDirectory(prefix="rnnlab-gradescope-") as scratch:
        root = Path(root or scratch).resolve()
        for folder in ("source", "submission", "results"):
            (root / folder).mkdir(parents=True)
        with zipfile.ZipFile(autograder) as archive:
            archive.extractall(root / "source")
        for path in map(Path, submission):
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(root / "submission")
            elif path.is_dir():
                shutil.copytree(path, root / "submission", dirs_exist_ok=True)
            else:
                shutil.copy(path, root / "submission")
        grader = subprocess.run([sys.executable, "-m", "rnnlab_engine.gradescope", "--root", str(root)],
                                cwd=root / "source", check=False)
        written = root / "results" / "results.json"
        if not written.is_file():
            raise RuntimeError(f"the zip's grader exited with {grader.returncode} and wrote no results.json: is "
                               f"{autograder} an rnnlab autograder zip?")
        results = json.loads(written.read_text())
    print(summary(results))
    return 0


def summary(results):
    """Gradescope's view of ``results.json``: one line per test, then the score."""
    lines = [f"{t['name']}: {t.get('score', 0):g} / {t.get('max_score', 0):g}" for t in results.get("tests", [])]
    possible = sum(t.get("max_score", 0) for t in results.get("tests", []))
    lines.append(f"score: {results.get('score', 0):g} / {possible:g}" + (
        f"\n{results['output']}" if results.get("output") else ""))
    return "\n".join(lines)
