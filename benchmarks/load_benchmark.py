"""Grading on a busy machine: each lab's correct example, two copies graded with ``--jobs 2``,
while N other CPU-bound processes run (default 32: a load average of about 34 on two cores).

    python benchmarks/load_benchmark.py [N] [LAB ...]

Each busy loop runs in a session of its own, so that Linux's per-session scheduling groups
give the graders no more than their share.  Prints each submission's score, its wall time,
its CPU time and the seconds its processes spent waiting for a busy CPU (which no time limit
counts), and its slowest question.  Full marks are expected whatever N is.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rnnlab.batch.batch import Submission, grade_all
from rnnlab.authoring.build import build_lab
from rnnlab.cli import write_examples
from rnnlab.authoring.labs import available_labs


def main(busy=32, *labs):
    busy = int(busy)
    with tempfile.TemporaryDirectory(prefix="rnnlab-load-") as work:
        work = Path(work)
        zips = {lab: build_lab(lab, dist=work / "dist", refresh_template=False).autograder_zip
                for lab in labs or available_labs()}
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
                for _ in range(busy)]
        try:
            time.sleep(5)  # let the load settle
            for lab, autograder in zips.items():
                grade_copies(lab, autograder, work, busy)
        finally:
            for hog in hogs:
                hog.kill()


def grade_copies(lab, autograder, work, busy):
    """Grade two copies of ``lab``'s correct example at once and print what they used."""
    correct = write_examples(lab, work / "dist")[0]
    copies = []
    for name in ("first", "second"):
        target = work / lab / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if correct.is_dir() else shutil.copy)(correct, target.with_suffix("" if correct.is_dir()
                                                                                          else ".ipynb"))
        copies.append(Submission(name, target.with_suffix("" if correct.is_dir() else ".ipynb")))
    started = time.monotonic()
    results = grade_all(autograder, copies, work / lab / "out", jobs=2, progress=False)
    print(f"{lab}, --jobs 2 beside {busy} busy processes ({time.monotonic() - started:.0f} s):")
    for result in results:
        slowest = max(result.questions, key=lambda q: q.wall_seconds)
        print(f"  {result.submission}: {result.score:g}/{result.possible:g}, {result.seconds:.0f} s of wall time, "
              f"{result.cpu_seconds:.1f} s of CPU, {result.waited_seconds:.0f} s waiting for a CPU; slowest "
              f"{slowest.name}: {slowest.wall_seconds:.0f} s ({slowest.waited_seconds:.0f} s waiting, "
              f"{slowest.cpu_seconds:.1f} s of CPU)"
              + (f"; {'; '.join(result.messages)}" if result.messages else ""), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
