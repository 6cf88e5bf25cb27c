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

# On Gradescope the container's 768 MB hold the grader and the checker too: the kernel
# gets what is left (the reference's kernel peaks at about 430 MB).
KERNEL_MEMORY = 560 * 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rnnlab_engine.gradescope")
    parser.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    root = Path(parser.parse_args(argv).root)
    results = root / "results"
    results.mkdir(exist_ok=True)
    try:
        from .grading import Autograder

        result = Autograder(root / "source", hidden=[results]).grade(root / "submission",
                                                                    memory_limit=KERNEL_MEMORY)
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
