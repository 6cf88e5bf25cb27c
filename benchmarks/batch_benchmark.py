"""Batch throughput: N generated submissions (correct ones and the catalogue's buggy ones),
graded with ``--jobs 1`` and ``--jobs 2`` (``otter_comparison.py`` sets one submission
against plain ``otter run``).

    python benchmarks/batch_benchmark.py [N]      (default N = 100)

Prints submissions per minute and the peak resident memory of everything grading runs
(this process, the kernels and their children), sampled every 0.1 s.
"""

import itertools
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

from rnnlab.batch.batch import collect, grade_all
from rnnlab.authoring.build import build_lab
from rnnlab.authoring.variants import buggy_notebook, catalogue

LAB = "rnn_lstm_numpy"


class PeakMemory:
    """Samples the resident memory of this process and all its descendants."""

    def __enter__(self):
        self.peak, self._done = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        me = psutil.Process()
        while not self._done.wait(0.1):
            total = 0
            for process in [me] + me.children(recursive=True):
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def generate(folder, solution, count):
    """``count`` submissions: every third one correct, the rest cycling through the catalogue."""
    variants = itertools.cycle(catalogue(LAB))
    for index in range(count):
        path = folder / f"student{index:03d}.ipynb"
        if index % 3 == 0:
            shutil.copy(solution, path)
        else:
            nbformat.write(buggy_notebook(solution, next(variants)), path)


def main(count=100):
    with tempfile.TemporaryDirectory(prefix="rnnlab-batch-") as work:
        measure(count, Path(work))


def measure(count, work):
    """Generate ``count`` submissions in ``work`` and grade them twice."""
    built = build_lab(LAB, dist=work / "dist", refresh_template=False)
    solution = built.solution_notebook
    (work / "submissions").mkdir()
    generate(work / "submissions", solution, count)
    for jobs in (1, 2):
        submissions = collect([work / "submissions"], work / "unpacked")
        with PeakMemory() as memory:
            started = time.perf_counter()
            grade_all(built.autograder_zip, submissions, work / f"out-{jobs}", jobs=jobs, progress=False)
            seconds = time.perf_counter() - started
        print(f"--jobs {jobs}: {count} submissions in {seconds:.0f} s = {count / seconds * 60:.1f} per minute, "
              f"peak memory {memory.peak / 2**20:.0f} MB")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
