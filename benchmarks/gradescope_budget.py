"""Grade a lab's example submissions inside Gradescope's default budget, as its zip runs there.

    python benchmarks/gradescope_budget.py [LAB]       (needs root and a cgroup memory controller)

Builds LAB, then for each example submission lays out ``/autograder`` (the zip unpacked in
``source/``, the notebook in ``submission/``) in a temporary folder and runs the zip's entry
point, ``python -m rnnlab_engine.gradescope``, inside a control group with Gradescope's limits:
768 MB of memory for everything in it (grader, checker, kernel) and half a CPU.  Prints the
score, the wall time and the group's peak memory, and whether the group ran out of memory.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rnnlab.authoring.build import build_lab
from rnnlab.cli import write_examples
from rnnlab_engine.gradescope import KERNEL_AND_CHECKER_MEMORY

MEMORY = 768 * 2**20
CPU_PERIOD, CPU_QUOTA = 100_000, 50_000  # half a CPU


class Budget:
    """A cgroup (v1 or v2) with Gradescope's memory and CPU limits."""

    def __init__(self):
        name = f"rnnlab-budget-{os.getpid()}"
        unified = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        if unified:
            self.folders = [Path("/sys/fs/cgroup") / name]
            self.folders[0].mkdir()
            (self.folders[0] / "memory.max").write_text(str(MEMORY))
            (self.folders[0] / "memory.swap.max").write_text("0")
            (self.folders[0] / "cpu.max").write_text(f"{CPU_QUOTA} {CPU_PERIOD}")
        else:
            memory, cpu = Path("/sys/fs/cgroup/memory") / name, Path("/sys/fs/cgroup/cpu") / name
            memory.mkdir()
            cpu.mkdir()
            (memory / "memory.limit_in_bytes").write_text(str(MEMORY))
            (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD))
            (cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA))
            self.folders = [memory, cpu]
        self.unified = unified

    def run(self, command, **kwargs):
        """Run ``command`` inside the group, sampling its memory every 0.1 s; returns
        ``(anonymous, in_use)``, the peaks of the group's anonymous memory and of that plus the
        files its processes map: what the kernel cannot reclaim by dropping cache."""
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        enter = "".join(f"echo $$ > {p}; " for p in procs)
        process = subprocess.Popen(["sh", "-c", enter + 'exec "$@"', "sh", *command], **kwargs)
        anonymous = in_use = 0
        while process.poll() is None:
            stat = dict(line.split() for line in (self.folders[0] / "memory.stat").read_text().splitlines())
            anon = int(stat["anon"] if self.unified else stat["rss"])
            mapped = int(stat["file_mapped"] if self.unified else stat["mapped_file"])
            anonymous, in_use = max(anonymous, anon), max(in_use, anon + mapped)
            time.sleep(0.1)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, command)
        return anonymous, in_use

    def peak(self):
        """The group's peak memory in bytes, and how often it hit the limit."""
        folder = self.folders[0]
        if self.unified:
            events = dict(line.split() for line in (folder / "memory.events").read_text().splitlines())
            return int((folder / "memory.peak").read_text()), int(events.get("oom_kill", 0))
        return (int((folder / "memory.max_usage_in_bytes").read_text()),
                int((folder / "memory.failcnt").read_text()))

    def remove(self):
        for folder in self.folders:
            folder.rmdir()


def drop_page_cache():
    """Empty the page cache, so that the group is charged for every page of the libraries its
    processes read (torch's among them), as in a new container; pages already cached are
    charged to whoever read them first.  It empties the whole machine's cache: other
    measurements running beside this one slow down."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3")


def main(lab="rnn_lstm_numpy"):
    with tempfile.TemporaryDirectory(prefix="rnnlab-budget-") as work:
        work = Path(work)
        built = build_lab(lab, dist=work / "dist", refresh_template=False)
        for submission in write_examples(lab, work / "dist"):
            root = work / submission.stem / "autograder"
            with zipfile.ZipFile(built.autograder_zip) as archive:
                archive.extractall(root / "source")
            if submission.is_dir():  # a notebook with the files it carries (checkpoints)
                shutil.copytree(submission, root / "submission")
            else:
                (root / "submission").mkdir()
                (root / "submission" / submission.name).write_bytes(submission.read_bytes())
            budget = Budget()
            drop_page_cache()
            try:
                started = time.perf_counter()
                anonymous, in_use = budget.run([sys.executable, "-m", "rnnlab_engine.gradescope", "--root",
                                                str(root)], cwd=root / "source")
                seconds = time.perf_counter() - started
                peak, limit_hits = budget.peak()
            finally:
                budget.remove()
            results = json.loads((root / "results" / "results.json").read_text())
            # The group's peak counts the page cache too, which the kernel reclaims at the
            # limit; what it cannot reclaim is the anonymous memory and the mapped files.  The
            # watchdog counts the kernel's resident size and the checker's proportional one.
            counted = results["rnnlab"]["peak_memory"]
            print(f"{submission.name}: {results['score']:g} points in {seconds:.0f} s with half a CPU; "
                  f"grader + checker + kernel: peak {peak / 2**20:.0f} MB of 768 with the page cache "
                  f"(times at the limit: {limit_hits}), {anonymous / 2**20:.0f} MB anonymous, "
                  f"{in_use / 2**20:.0f} MB with the mapped files; the watchdog counted "
                  f"{counted / 2**20:.0f} MB of its {KERNEL_AND_CHECKER_MEMORY // 2**20}")
            for question in results["rnnlab"]["questions"]:
                if question["status"] != "graded":
                    print(f"  {question['name']}: {question['status']}: {question['output'][:200]}")
            for message in results["rnnlab"]["messages"]:
                print(f"  {message}")


if __name__ == "__main__":
    main(*sys.argv[1:])
