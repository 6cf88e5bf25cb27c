"""rnnlab against plain ``otter run``, per submission, on one core: for each lab, the same
correct notebook (with the files it hands in) graded alternately by ``rnnlab grade``'s engine
(every limit and the kernel/checker split on) and by ``otter run -a <lab>-autograder.zip``
(otter's own runner: the tests in the notebook's process, no limits; the same scores), and
the ratio of the medians; then ``BATCH`` copies graded by one ``rnnlab grade`` (one at a
time), whose time per submission is what a course's batch pays (otter run grades one
notebook per call).

    python benchmarks/otter_comparison.py [ROUNDS] [LAB...]     (default 3 rounds, every lab)

Both run as child processes pinned to the first core of this one, with one thread per
numerical library; the wall time of each is what a course waits for a submission.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rnnlab.authoring.build import build_lab
from rnnlab.authoring.labs import available_labs
from rnnlab.cli import write_examples

BATCH = 4
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def timed(command, cwd):
    """Seconds of wall time of ``command``, which must succeed."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env={**os.environ, **ONE_THREAD})
    return time.perf_counter() - started


def compare(lab, rounds, work):
    """Median seconds per submission of rnnlab and of otter run for ``lab``'s correct example."""
    built = build_lab(lab, dist=work / "dist", refresh_template=False)
    correct = write_examples(lab, work / "dist")[0]
    submission = work / f"{lab}-submission.zip"  # what a student hands in: the notebook and its files
    with zipfile.ZipFile(submission, "w") as archive:
        for path in ([correct] if correct.is_file() else sorted(correct.iterdir())):
            archive.write(path, path.name)
    rnnlab = [sys.executable, "-m", "rnnlab.cli", "grade", lab, "--autograder", str(built.autograder_zip)]
    otter = [sys.executable, "-m", "otter", "run", "-a", str(built.autograder_zip), "-o", str(work), str(submission)]
    times = {"rnnlab": [], "otter run": []}
    for _ in range(rounds):  # alternately, so that a change of the machine's load hits both
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        times["rnnlab"].append(timed(rnnlab + ["--out", str(out), str(submission)], work))
        times["otter run"].append(timed(otter, work))
    copies = work / "batch"
    copies.mkdir()
    for number in range(BATCH):
        shutil.copy(submission, copies / f"student{number}.zip")
    shutil.rmtree(work / "out", ignore_errors=True)
    in_batch = timed(rnnlab + ["--out", str(work / "out")] + [str(copies)], work) / BATCH
    return {name: statistics.median(seconds) for name, seconds in times.items()}, times, in_batch


def main(rounds=3, *labs):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    for lab in labs or available_labs():
        with tempfile.TemporaryDirectory(prefix="rnnlab-otter-comparison-") as work:
            medians, times, in_batch = compare(lab, int(rounds), Path(work))
        print(f"{lab}: rnnlab {medians['rnnlab']:.1f} s, otter run {medians['otter run']:.1f} s per submission, "
              f"ratio {medians['rnnlab'] / medians['otter run']:.2f} (each run: rnnlab "
              f"{', '.join(f'{s:.1f}' for s in times['rnnlab'])}; otter run "
              f"{', '.join(f'{s:.1f}' for s in times['otter run'])}); in a batch of {BATCH}, rnnlab "
              f"{in_batch:.1f} s per submission, ratio {in_batch / medians['otter run']:.2f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
