"""``rnnlab verify LAB``: the same verdicts on every platform.

A verdict must depend on the student's code, never on the grading machine.  This grades the
lab's reference, its correct rewrites and its catalogue of buggy variants through the real
autograder zip, once per platform: each CPU profile this machine can emulate
(``rnnlab.authoring.platforms``), with as many threads as asked, in every Python environment given
(another numpy or torch) and, where torch sees a GPU, with the torch checks on CUDA.  Then it
prints every verdict that differs between platforms, and any platform where a correct
submission loses points.
"""

import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .build import build_lab
from .platforms import PROFILES, available_profiles, environment
from .variants import write_catalogue

CORRECT = ("reference", "rewritten")


@dataclass(frozen=True)
class Platform:
    """Where one grading runs: a CPU profile, a thread count, a Python environment and the
    torch checks' device."""

    profile: str
    threads: int = 1
    python: str = sys.executable
    device: str = "cpu"

    @property
    def slug(self):
        """A folder name for its reports."""
        return f"{self.profile}-{self.threads}t-{Path(self.python).parent.parent.name}-{self.device}"


def platforms(profiles=None, threads=(1,), pythons=()):
    """Every platform to grade on: ``profiles`` (default: those this machine can run) x
    ``threads`` x this Python and ``pythons``; and, for each Python whose torch sees a GPU,
    the first profile with the torch checks on CUDA."""
    names = profiles or [p.name for p in available_profiles()]
    found = []
    for python in [sys.executable, *map(str, pythons)]:
        found += [Platform(name, count, python) for name in names for count in threads]
        if names and _versions(python)["cuda"]:
            found.append(Platform(names[0], threads[0], python, "cuda"))
    return found


@functools.lru_cache(maxsize=None)  # a subprocess that imports torch: once per environment
def _versions(python):
    """numpy's and torch's versions in ``python``, and whether torch sees a GPU."""
    probe = "import json, numpy, torch; print(json.dumps({'numpy': numpy.__version__, " \
            "'torch': torch.__version__, 'cuda': torch.cuda.is_available()}))"
    completed = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{python} cannot run numpy and torch: {completed.stderr.strip()[-300:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def describe(platform):
    """What a platform is, in words."""
    versions = _versions(platform.python)
    return (f"{platform.profile}, {platform.threads} thread{'s' if platform.threads > 1 else ''}, numpy "
            f"{versions['numpy']}, torch {versions['torch']} on {platform.device}")


def verdicts(out):
    """``{submission: {question: (score, points possible, failed cases)}}`` of the reports in ``out``."""
    found = {}
    for results in sorted(Path(out).glob("*/results.json")):
        own = json.loads(results.read_text())["rnnlab"]
        found[own["submission"]] = {q["name"]: (q["score"], q["possible"],
                                                tuple(c["name"] for c in q["cases"] if not c["passed"]))
                                    for q in own["questions"]}
    return found


def grade_on(platform, lab, autograder, submissions, out, jobs, in_process=False):
    """Grade ``submissions`` on ``platform`` (a process of its own, in its environment);
    ``in_process``: check them without the engine (``rnnlab.authoring.in_process``)."""
    shutil.rmtree(out, ignore_errors=True)  # a report left from another run is no verdict of this one
    if in_process:
        command = [platform.python, "-m", "rnnlab.authoring.in_process", str(autograder), *map(str, submissions),
                   "--out", str(out)]
    else:
        command = [platform.python, "-m", "rnnlab.cli", "grade", lab, *map(str, submissions),
                   "--autograder", str(autograder), "--out", str(out), "--jobs", str(jobs)]
    completed = subprocess.run(command, capture_output=True, text=True,
                               env=environment(platform.profile, platform.threads, platform.device))
    if completed.returncode != 0:
        raise RuntimeError(f"grading on {platform.slug} failed:\n{completed.stderr[-2000:]}")
    return verdicts(out)


def differences(by_platform):
    """Lines naming each (submission, question) whose verdict is not the same on every
    platform, and each correct submission that loses points somewhere."""
    lines = []
    submissions = sorted({s for found in by_platform.values() for s in found})
    for submission in submissions:
        per_platform = {p: found.get(submission, {}) for p, found in by_platform.items()}
        for question in sorted({q for v in per_platform.values() for q in v}, key=_natural):
            seen = {p: v.get(question) for p, v in per_platform.items()}
            if len(set(seen.values())) > 1:
                lines.append(f"{submission} {question}: " + "; ".join(
                    f"{_shown(v)} on {p}" for p, v in seen.items()))
        if submission in CORRECT:
            for platform, found in per_platform.items():
                lost = [q for q, (score, points, _) in found.items() if score < points]
                if lost:
                    lines.append(f"{submission} loses points on {platform}: {', '.join(lost)}")
    return lines


def _shown(verdict):
    if verdict is None:
        return "not graded"
    score, _, failed = verdict
    return f"{score:g} points" + (f" (failed {', '.join(failed)})" if failed else "")


def _natural(name):
    digits = "".join(ch for ch in name if ch.isdigit())
    return name.rstrip("0123456789"), int(digits or 0)


def verify(lab, chosen, reference_only=False, jobs=1, out=None, log=print, in_process=False, built=None):
    """Grade ``lab``'s catalogue on each of ``chosen`` platforms; ``(by_platform, differences)``
    where ``by_platform`` maps a platform's description to its verdicts.  ``in_process``:
    check each notebook without the engine, in seconds (the same verdicts, no isolation);
    ``built``: the lab's ``BuildResult`` where it is built already."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-verify-") as work:
        work = Path(work)
        built = built or build_lab(lab, dist=work / "dist", refresh_template=False)
        submissions = write_catalogue(lab, built.solution_notebook, work / "submissions", reference_only)
        log(f"rnnlab verify {lab}: {len(submissions)} submissions on {len(chosen)} platforms")
        by_platform = {}
        for number, platform in enumerate(chosen, 1):
            started, described = time.monotonic(), describe(platform)
            found = grade_on(platform, lab, built.autograder_zip, submissions.values(),
                             Path(out or work / "out") / f"{number:02d}-{platform.slug}", jobs, in_process)
            by_platform[described] = found
            totals = ", ".join(f"{name} {sum(v[0] for v in found[name].values()):g}/"
                               f"{sum(v[1] for v in found[name].values()):g}" for name in CORRECT if name in found)
            log(f"  {described}: {totals} ({time.monotonic() - started:.0f} s)")
        return by_platform, differences(by_platform)


def main(lab, profiles, threads, pythons, reference_only, jobs, out, in_process=False):
    """``rnnlab verify``: 0 when every verdict is the same everywhere and correct code keeps
    full marks, else 1."""
    unavailable = [p for p in profiles or [] if not PROFILES[p].available()]
    if unavailable:
        print(f"rnnlab verify: this CPU cannot run the {', '.join(unavailable)} profile", file=sys.stderr)
        return 1
    chosen = platforms(profiles, threads, pythons)
    if not chosen:
        print("rnnlab verify: no CPU profile runs on this machine", file=sys.stderr)
        return 1
    _, found = verify(lab, chosen, reference_only, jobs, out, in_process=in_process)
    print("\n".join(["Verdicts that differ between platforms:", *found]) if found else
          "No verdict differs between platforms, and correct code keeps full marks on each.")
    return 1 if found else 0
