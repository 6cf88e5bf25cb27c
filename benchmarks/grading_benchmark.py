"""Speed and memory of rnnlab on this machine, against Gradescope's default budget
(10 min, 768 MB, half a vCPU).

    python benchmarks/grading_benchmark.py [LAB]

Pins itself and every child (the kernel) to one core, then reports: build time, grading
time of the reference submission and of the example buggy one, the peak resident memory
of the student's kernel, and the peak of everything together (grader, checker, kernel), which
is what Gradescope's 768 MB container limit applies to.
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from batch_benchmark import PeakMemory

from rnnlab.authoring.build import build_lab
from rnnlab.cli import write_examples
from rnnlab_engine.grading import grade_submission


def main(lab="rnn_lstm_numpy"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as dist:
        measure(lab, Path(dist))


def measure(lab, dist):
    """Build ``lab`` into ``dist`` and grade its examples, printing the figures."""
    started = time.perf_counter()
    built = build_lab(lab, dist=dist, refresh_template=False)
    print(f"{lab}: build {time.perf_counter() - started:.1f} s (one core)")
    for submission in write_examples(lab, dist):
        with PeakMemory() as memory:
            result = grade_submission(built.autograder_zip, submission)
        print(f"  {submission.name}: {result.score:g}/{result.possible:g} graded in "
              f"{result.seconds:.1f} s, kernel peak {result.peak_memory / 2**20:.0f} MB, "
              f"all processes together {memory.peak / 2**20:.0f} MB")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  grading process peak {own:.0f} MB (it never runs student code)")


if __name__ == "__main__":
    main(*sys.argv[1:])
