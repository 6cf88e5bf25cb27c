"""What hostile submissions cost an honest one graded after them, on each machine rnnlab grades
on (``tests/machines.py``: root with namespaces, a container, a normal user, a normal user in
a container).  For each machine, one ``rnnlab grade`` grades the honest submission after two
copies of itself, another after the two hostile ones of ``tests/test_isolation.py`` (one reads
the checkout and the others' names, reaches for the network, the grader's sockets and files
and memory no process maps, floods threads, fills the disk and shares 2 GB of memory; one
leaves a daemon that forks for 100 s and a double-forked grandchild that allocates 2 GB), one
at a time, pinned to one core; it prints the honest submission's score and seconds in both,
and what the attacks got (as the test asserts: nothing).

    python benchmarks/hostile_batch.py [MACHINE...]      (as root; default every machine)

The submissions are ``rnn_lstm_numpy`` cut to its first six questions, as the engine's tests
grade it.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from first_questions import first_questions_notebook, first_questions_zip  # noqa: E402
from machines import MACHINES, command, user_folder  # noqa: E402
from test_isolation import ATTACKER, graders_things, hostile_batch  # noqa: E402

from rnnlab.authoring.build import build_lab  # noqa: E402
from rnnlab_engine.isolation.cgroups import TASK_LIMIT  # noqa: E402

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def grade(machine, folder, submissions, autograder, out):
    """``{submission: results.json}`` of one ``rnnlab grade`` on ``machine``, pinned to core 0."""
    argv = ["taskset", "-c", "0", sys.executable, "-m", "rnnlab.cli", "grade", "rnn_lstm_numpy",
            *map(str, submissions), "--autograder", str(autograder), "--out", str(out)]
    subprocess.run(command(machine, argv), check=True, capture_output=True, cwd=folder,
                   env={**os.environ, **ONE_THREAD, "HOME": str(folder / "home")})
    return {path.stem: json.loads((out / path.stem / "results.json").read_text()) for path in submissions}


def main(machines):
    with tempfile.TemporaryDirectory(prefix="rnnlab-hostile-") as work:
        work = Path(work)
        built = build_lab("rnn_lstm_numpy", dist=work / "dist", refresh_template=False)
        autograder = first_questions_zip(built.autograder_zip, work / "rnn_lstm_numpy-autograder.zip")
        notebook = first_questions_notebook(built.solution_notebook, work / "rnn_lstm_numpy.ipynb")
        print("| machine | honest, after two honest ones | after the two hostile ones | what the attacks got |")
        print("|---|---|---|---|")
        for number, machine in enumerate(machines):
            folder = Path(tempfile.mkdtemp(prefix="rnnlab-machine-"))
            graders_sockets = ()
            try:
                for name in ("submissions", "zip", "home"):
                    (folder / name).mkdir()
                zip_copy = shutil.copy(autograder, folder / "zip")
                *hostile, honest = hostile_batch(notebook, folder, 9, ATTACKER.format(number))
                graders_sockets = graders_things(folder)
                if machine.startswith("user"):
                    user_folder(folder)
                honest_ones = [Path(shutil.copy(honest, folder / "submissions" / f"honest_{n}.ipynb")) for n in (1, 2)]
                alone = grade(machine, folder, [*honest_ones, honest], zip_copy, folder / "alone")[honest.stem]
                after = grade(machine, folder, [*hostile, honest], zip_copy, folder / "after")
                report = after[hostile[0].stem]["tests"][0]["output"]
                if "REPORT" not in report:
                    raise RuntimeError(f"{machine}: the attack could not report: {json.dumps(after[hostile[0].stem])}")
                got = ast.literal_eval(report.split("REPORT", 1)[1].split("END", 1)[0])
                threads = (f"{got['threads']} of {2 * TASK_LIMIT} threads" if "threads" in got else
                           f"its threads stopped above {TASK_LIMIT}")
                print(f"| {machine} | {alone['score']:g}/15 in {alone['rnnlab']['seconds']:.1f} s "
                      f"| {after[honest.stem]['score']:g}/15 in {after[honest.stem]['rnnlab']['seconds']:.1f} s "
                      f"| {len(got['found'])} secrets, {len(got['names'])} names, {len(got['reached'])} of 9 "
                      f"sockets, files and memories reached; {threads} |", flush=True)
            finally:
                for sock in graders_sockets:
                    sock.close()
                shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(MACHINES))
