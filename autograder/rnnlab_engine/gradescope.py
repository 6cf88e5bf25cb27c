"""Gradescope's entry point, shipped inside the autograder zip as ``rnnlab_engine``.

``run_autograder`` runs ``python -m rnnlab_engine.gradescope`` in ``/autograder/source``: the
submission in ``/autograder/submission`` is graded with the zip's own tests through the same
runner as ``rnnlab grade`` (time and memory limits, a kernel of its own user without
network, tests and reference out of its reach), and ``/autograder/results/results.json`` is
written even when the grader itself fails.
"""

import argparse
import json
import os
from pathlib import Path

# On Gradescope one container of 768 MB holds the grader, the checker and the kernel: the
# kernel and the checker together may use 690 MB, the grader (about 60 MB) the rest.  The
# reference's kernel and checker peak near 600 MB (benchmarks/gradescope_budget.py).
KERNEL_AND_CHECKER_MEMORY = 690 * 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rnnlab_engine.gradescope")
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    root = Path(parser.parse_args(argv).root)
    results = root / "results"
    results.mkdir(exist_ok=True)
    try:
        from .grading import TIME_LIMIT, Autograder

        autograder = Autograder(root / "source")
        try:
            # Gradescope stops a submission at 10 minutes of wall time, however busy its machine.
            result = autograder.grade(root / "submission", memory_limit=KERNEL_AND_CHECKER_MEMORY,
                                      wall_limit=TIME_LIMIT, checker_counts=True)
        finally:
            autograder.close()
        payload = result.to_gradescope()
    except Exception as error:  # a bug of ours still gets a written result
        payload = {"score": 0, "tests": [], "output": (
            f"rnnlab could not grade this submission ({type(error).__name__}: {error}); "
            "ask your course staff to grade it again.")}
    partial = results / "results.json.partial"
    partial.write_text(json.dumps(payload, indent=2))
    os.replace(partial, results / "results.json")


if __name__ == "__main__":
    main()
