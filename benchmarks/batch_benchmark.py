"""Batch throughput: N generated submissions (every third correct, the others cycling through
the catalogue's buggy ones), graded by ``rnnlab grade`` with ``--jobs 1`` and ``--jobs 2``, by
this checkout and, with ``--against REF``, by the commit REF (a git worktree) in the same run;
each commit grades the submissions its own lab makes (its notebook, its catalogue), and the
verdicts of the two are compared submission by submission (``otter_comparison.py`` sets one
submission against plain ``otter run``).

    python benchmarks/batch_benchmark.py [N] [--against REF] [--jobs 1 2] [--lab LAB]
                                          (default N = 100, every job count, rnn_lstm_numpy)

Prints submissions per minute and the peak resident memory of everything grading runs (the
grader, its kernels and their children), sampled every 0.1 s; then each commit's throughput
against REF's.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from rnnlab.authoring.labs import ROOT

# Builds the lab's zip and writes N submissions with the code of the tree on PYTHONPATH (an
# API both old and new have): every third the solution, the others the catalogue's variants.
PREPARE = """
import itertools, shutil, sys
from pathlib import Path
import nbformat
from rnnlab.authoring.build import build_lab
from rnnlab.authoring.variants import buggy_notebook, catalogue
lab, dist, folder, count = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
built = build_lab(lab, dist=dist, refresh_template=False)
variants = itertools.cycle(catalogue(lab))
folder.mkdir()
for index in range(count):
    path = folder / f"student{index:03d}.ipynb"
    if index % 3 == 0:
        shutil.copy(built.solution_notebook, path)
    else:
        nbformat.write(buggy_notebook(built.solution_notebook, next(variants)), path)
print(built.autograder_zip)
"""


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


def grade(tree, lab, count, out, jobs, work):
    """Seconds, peak memory and scores ({submission: {question: score}}) of ``rnnlab grade``
    with the code of ``tree`` (a checkout) on the ``count`` submissions its lab makes."""
    environment = {**os.environ, "PYTHONPATH": str(tree / "autograder"), "OMP_NUM_THREADS": "1"}
    dist, submissions = work / f"dist-{tree.name}", work / f"submissions-{tree.name}"
    if not dist.exists():
        prepared = subprocess.run([sys.executable, "-c", PREPARE, lab, str(dist), str(submissions), str(count)],
                                  env=environment, cwd=tree, capture_output=True, text=True, check=True)
        (dist / "zip").write_text(prepared.stdout.strip().splitlines()[-1])
    command = [sys.executable, "-m", "rnnlab.cli", "grade", lab, str(submissions), "--jobs", str(jobs),
               "--autograder", (dist / "zip").read_text(), "--out", str(out)]
    with PeakMemory() as memory:
        started = time.perf_counter()
        subprocess.run(command, env=environment, cwd=tree, capture_output=True, check=True)
        seconds = time.perf_counter() - started
    scores = {}
    for path in sorted(out.glob("*/results.json")):
        result = json.loads(path.read_text())["rnnlab"]
        scores[path.parent.name] = {q["name"]: q["score"] for q in result["questions"]}
    return seconds, memory.peak, scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=100)
    parser.add_argument("--against", help="a commit to measure in the same run (a git worktree of it)")
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--lab", default="rnn_lstm_numpy")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rnnlab-batch-") as work:
        work = Path(work)
        trees = [ROOT]
        if args.against:
            subprocess.run(["git", "worktree", "add", "--detach", str(work / args.against), args.against],
                           cwd=ROOT, check=True, capture_output=True)
            trees.insert(0, work / args.against)
        try:
            measure(args, trees, work)
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", str(work / args.against)], cwd=ROOT)


def measure(args, trees, work):
    """Grade the submissions with each tree at each job count; print what each took."""
    rates, verdicts = {}, {}
    for jobs in args.jobs:
        for tree in trees:  # at one job count, one after the other: the same load for both
            name = "this checkout" if tree == ROOT else args.against
            seconds, peak, scores = grade(tree, args.lab, args.count, work / f"out-{tree.name}-{jobs}", jobs, work)
            rates[name, jobs] = args.count / seconds * 60
            verdicts.setdefault(name, scores)
            print(f"{name}, --jobs {jobs}: {args.count} submissions in {seconds:.0f} s = {rates[name, jobs]:.1f} "
                  f"per minute, peak memory {peak / 2**20:.0f} MB", flush=True)
    if args.against:
        for jobs in args.jobs:
            print(f"--jobs {jobs}: {rates['this checkout', jobs] / rates[args.against, jobs]:.2f}x {args.against}'s "
                  "submissions per minute")
        differ = sorted(s for s in verdicts[args.against] if verdicts[args.against][s] != verdicts["this checkout"].get(s))
        print(f"verdicts: {'the same for every submission' if not differ else 'differ for ' + ', '.join(differ)}")


if __name__ == "__main__":
    main()
