"""Thresholds calibrated over a matrix of platforms, not on one machine.

A lab's calibration script lists ``Calibration``s: a check that judges what training
produced, the figures it compares with thresholds, a ``measure(module, seed)`` that computes
them exactly as the test does, and the catalogue's variants to measure beside the
reference.  ``main`` runs every measurement in worker processes under every CPU profile this
machine can emulate (``rnnlab.authoring.platforms``: OpenBLAS SkylakeX, Haswell, Sandybridge and
torch's matching kernels), with 1 and 2 threads, in every Python environment given with
``--python`` (another numpy), for the reference on seeds 0-9 and each variant on seeds 0-2;
then prints, for every figure, the range over the matrix, the worst case, its margin to the
threshold and the spread of the reference.  A verdict that differs anywhere in the matrix
is printed as MIXED and the script exits with 1.

    python assignments/<lab>/calibrate.py [--python OTHER_ENV/bin/python] [--jobs 2] [--save runs.json]
    python assignments/<lab>/calibrate.py --report runs.json     (after a threshold changed)
"""

import argparse
import json
import os
import subprocess
import sys
import time
import types
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .labs import ROOT, SOLUTIONS, reference_module
from .platforms import available_profiles, environment
from .variants import catalogue


@dataclass(frozen=True)
class Figure:
    """A measured value and the threshold a check holds it to: ``passes`` is "<" (below
    passes) or ">=" (at least passes)."""

    key: str
    label: str
    threshold: float
    passes: str = "<"

    def margin(self, value):
        """Distance of ``value`` from the threshold, positive on the passing side."""
        return self.threshold - value if self.passes == "<" else value - self.threshold

    def passed(self, value):
        return self.margin(value) > 0 if self.passes == "<" else self.margin(value) >= 0


@dataclass(frozen=True)
class Calibration:
    """One check that judges trained results, measured as its test measures them."""

    lab: str
    test: str
    figures: tuple
    measure: Callable  # (module, seed) -> {figure key: value}
    variants: tuple = ()
    setup: Callable | None = None  # run once per worker before measuring (loads a corpus, say)


def lab_of(script):
    """``(lab name, reference module)`` of the lab whose folder holds ``script`` (a
    calibration script's ``__file__``): the script names no lab, so a copied lab keeps working."""
    lab = Path(script).resolve().parent.name
    return lab, reference_module(lab)


def variant_module(lab, name=None):
    """The reference module of ``lab``, with the catalogue variant ``name`` applied."""
    source = (SOLUTIONS / f"{lab}.py").read_text()
    if name is not None:
        variant = next(v for v in catalogue(lab) if v.name == name)
        for find, replace in variant.edits():
            assert source.count(find) == 1, name
            source = source.replace(find, replace)
    module = types.ModuleType(name or "reference")
    exec(compile(source, f"{lab}:{name or 'reference'}", "exec"), module.__dict__)
    return module


def main(calibrations, argv=None):
    """Run ``calibrations`` over the matrix (or, as a worker, the tasks on stdin)."""
    parser = argparse.ArgumentParser(description="Measure a lab's learning checks over a platform matrix.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profiles", nargs="+", default=[p.name for p in available_profiles()])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--python", action="append", default=[],
                        help="another Python environment with rnnlab installed (another numpy); repeatable")
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the reference (0..N-1)")
    parser.add_argument("--variant-seeds", type=int, default=3, help="seeds of each variant")
    parser.add_argument("--jobs", type=int, default=2, help="workers at once (one per core)")
    parser.add_argument("--only", nargs="+", help="tests to calibrate (names as in the table)")
    parser.add_argument("--save", type=Path, help="keep every measurement in this JSON file")
    parser.add_argument("--report", type=Path, help="report the measurements saved in this file (after a "
                        "threshold changed) instead of measuring")
    args = parser.parse_args(argv)
    chosen = [c for c in calibrations if not args.only or any(o in c.test for o in args.only)]
    if args.worker:
        return _work(chosen)
    if args.report:
        return report(chosen, json.loads(args.report.read_text()))
    tasks = [(c.test, row, seed) for c in chosen for row in (None, *c.variants)
             for seed in range(args.seeds if row is None else args.variant_seeds)]
    configs = [(python, profile, threads) for python in [sys.executable, *args.python]
               for profile in args.profiles for threads in args.threads]
    print(f"{len(tasks)} measurements on {len(configs)} platforms, {args.jobs} at a time", flush=True)
    started = time.time()
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = [r for rs in pool.map(lambda config: _run_worker(config, tasks, os.path.abspath(sys.argv[0]), args.only), configs)
                for r in rs]
    print(f"({time.time() - started:.0f} s)\n")
    if args.save:
        args.save.write_text(json.dumps(runs))
    return report(chosen, runs)


def _run_worker(config, tasks, script, only):
    python, profile, threads = config
    command = [python, script, "--worker"] + (["--only", *only] if only else [])
    completed = subprocess.run(command, input=json.dumps(tasks), capture_output=True, text=True,
                               env=environment(profile, threads), cwd=ROOT)
    runs = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or len(runs) != len(tasks):
        raise RuntimeError(f"worker {config} failed:\n{completed.stderr[-3000:]}")
    for run in runs:
        torch_version = run.pop("torch", None)  # None where the lab's checks never import torch
        run["platform"] = f"{profile}/{threads}t/numpy {run.pop('numpy')}" + (f"/torch {torch_version}"
                                                                              if torch_version else "")
    print(f"  {profile}, {threads} thread(s), {Path(python).parent.parent.name}: done", flush=True)
    return runs


def _work(calibrations):
    """Worker: measure the tasks read from stdin, one JSON line each."""
    import numpy

    by_test = {c.test: c for c in calibrations}
    modules = {}
    ready = set()
    for test, row, seed in json.loads(sys.stdin.read()):
        calibration = by_test[test]
        if test not in ready and calibration.setup:
            calibration.setup()
        ready.add(test)
        key = (calibration.lab, row)
        if key not in modules:
            modules[key] = variant_module(calibration.lab, row)
        try:
            figures, error = calibration.measure(modules[key], seed), None
        except Exception as exc:  # a bug may break training outright; its test fails too
            figures, error = {}, f"{type(exc).__name__}: {str(exc)[:80]}"
        print(json.dumps({"test": test, "row": row, "seed": seed, "figures": figures, "error": error,
                          "numpy": numpy.__version__,
                          "torch": getattr(sys.modules.get("torch"), "__version__", None)}), flush=True)
    return 0


def report(calibrations, runs):
    """Print the table of each calibration; 1 if a verdict differs across the matrix or the
    reference fails anywhere."""
    problems = []
    platforms = sorted({r["platform"] for r in runs})
    for calibration in calibrations:
        mine = [r for r in runs if r["test"] == calibration.test]
        print(f"{calibration.test}\n  {len(platforms)} platforms: {', '.join(platforms)}")
        rows = defaultdict(list)
        for run in mine:
            rows[run["row"]].append(run)
        for row, row_runs in rows.items():
            seeds = sorted({r["seed"] for r in row_runs})
            print(f"  {row or 'reference'} (seeds {seeds[0]}-{seeds[-1]}, {len(row_runs)} runs)")
            errors = [r for r in row_runs if r["error"]]
            if errors:
                print(f"    fails with {errors[0]['error']} on {len(errors)} of {len(row_runs)} runs")
                if len(errors) != len(row_runs) or row is None:
                    problems.append(f"{calibration.test}: {row or 'reference'} fails on some runs only")
                continue
            for figure in calibration.figures:
                values = [r["figures"][figure.key] for r in row_runs]
                verdicts = [figure.passed(v) for v in values]
                worst = min(values, key=figure.margin) if all(verdicts) else max(values, key=figure.margin)
                if all(verdicts) or not any(verdicts):
                    state = "passes on every run" if all(verdicts) else "fails on every run"
                    margin = f"margin {abs(figure.margin(worst)):.4g}"
                else:
                    state = f"MIXED: passes {sum(verdicts)} of {len(values)}"
                    problems.append(f"{calibration.test}: {row or 'reference'}: {figure.label} is {state}")
                    margin = ""
                spread = max(values) - min(values)
                line = (f"    {figure.label} {figure.passes} {figure.threshold:g}: {min(values):.4g} .. "
                        f"{max(values):.4g} (spread {spread:.3g}); worst {worst:.4g}; {state}; {margin}")
                if row is None:
                    if not all(verdicts):
                        problems.append(f"{calibration.test}: the reference fails {figure.label}")
                    elif abs(figure.margin(worst)) < spread:
                        problems.append(f"{calibration.test}: {figure.label}: margin under the reference's spread")
                        line += "  MARGIN UNDER SPREAD"
                print(line)
        print()
    print("\n".join(problems) if problems else "Every verdict is the same on every platform and seed.")
    return 1 if problems else 0

