"""A verdict depends on the student's code, never on the machine: no check trains while
grading, time limits do not count a busy CPU, and each lab's reference keeps full marks
under every CPU profile this machine can emulate."""

import ast
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnlab.authoring.build import write_arrays
from rnnlab_checks.reference import reference_solution
from rnnlab.authoring.labs import ASSIGNMENTS, PACKAGES, ROOT, SOLUTIONS, available_labs

CHECKER_SIDE = (sorted(ASSIGNMENTS.glob("*/tests/*.py")) + sorted(ASSIGNMENTS.glob("*/lab_checks.py"))
                + sorted((PACKAGES / "rnnlab_checks").glob("*.py")))


def test_no_check_runs_an_optimiser_or_a_backward_pass():
    """What the checker computes is forward only: a model trained there would be judged by the
    grader's CPU.  (The student's own training loop runs in the student's kernel.)"""
    found = []
    for path in CHECKER_SIDE:
        for node in ast.walk(ast.parse(path.read_text())):
            optimiser = isinstance(node, ast.Attribute) and node.attr == "optim"
            # loss.backward(), not the numpy labs' backward(xs, hs, ...) that a spied loop calls
            autograd = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "backward" and len(node.args) < 2)
            if optimiser or autograd:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


@pytest.fixture
def graded_reference(tmp_path, monkeypatch):
    """``rnnlab_reference`` as the autograder zip ships it, importable as while grading."""
    package = tmp_path / "rnnlab_reference"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(SOLUTIONS / "char_rnn_numpy.py", package / "solution.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [n for n in sys.modules if n.startswith("rnnlab_reference")]:
        del sys.modules[name]


def test_the_reference_refuses_to_train_while_grading(graded_reference):
    reference = reference_solution()
    with pytest.raises(RuntimeError, match="frozen when the lab is built"):
        reference.train("some text", {}, hidden_size=4)
    assert reference_solution().forward is reference.forward  # the rest is the reference's


def test_frozen_arrays_are_the_same_bytes_each_time(graded_reference, tmp_path):
    from rnnlab_checks.reference import fixture
    arrays = {"W": np.arange(6.0).reshape(2, 3), "words": np.array(["a", "b", "EOS"])}
    (graded_reference / "fixtures").mkdir()
    write_arrays(graded_reference / "fixtures" / "model.npz", arrays)
    write_arrays(tmp_path / "again.npz", arrays)
    assert (graded_reference / "fixtures" / "model.npz").read_bytes() == (tmp_path / "again.npz").read_bytes()
    loaded = fixture("model")
    assert loaded["W"].tolist() == arrays["W"].tolist() and loaded["words"].tolist() == ["a", "b", "EOS"]


def test_the_kernel_sees_the_platform_and_thread_choice(monkeypatch, tmp_path):
    from rnnlab_engine.kernel import _kernel_environment
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("RNNLAB_THREADS", "2")
    monkeypatch.setenv("SECRET_TOKEN", "x")
    env = _kernel_environment(str(tmp_path))
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "2"
    assert "SECRET_TOKEN" not in env
    monkeypatch.setenv("RNNLAB_THREADS", "lots")
    assert _kernel_environment(str(tmp_path))["OMP_NUM_THREADS"] == "1"


def test_profiles_need_their_cpu_flag():
    from rnnlab.authoring.platforms import PROFILES, environment
    assert PROFILES["SkylakeX"].available({"avx512f", "avx2", "avx"})
    assert not PROFILES["SkylakeX"].available({"avx2", "avx"}) and PROFILES["Haswell"].available({"avx2"})
    env = environment("Sandybridge", threads=2, device="cpu", base={})
    assert env["OPENBLAS_CORETYPE"] == "Sandybridge" and env["MKL_NUM_THREADS"] == "2"
    assert env["RNNLAB_THREADS"] == "2" and env["RNNLAB_DEVICE"] == "cpu"


BUSY = [sys.executable, "-c", "while True: pass"]


def crowded_cpu(processes):
    """``processes`` busy loops on the first CPU of this process's: callers pin themselves there too."""
    cpu = min(os.sched_getaffinity(0))
    hogs = [subprocess.Popen(BUSY, start_new_session=True) for _ in range(processes)]  # one scheduling group each
    for hog in hogs:
        os.sched_setaffinity(hog.pid, {cpu})
    return cpu, hogs


def schedstat_available():
    try:
        return len(open(f"/proc/{os.getpid()}/schedstat").read().split()) == 3
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not schedstat_available(), reason="Linux keeps no run-queue waits here")
def test_stopwatch_does_not_count_waiting_for_a_busy_cpu():
    import psutil
    from rnnlab_engine.kernel import Stopwatch
    cpu, hogs = crowded_cpu(3)
    worker = subprocess.Popen(BUSY, start_new_session=True)  # a scheduling group of its own, as each hog
    try:
        os.sched_setaffinity(worker.pid, {cpu})
        stopwatch = Stopwatch(psutil.Process(worker.pid))
        time.sleep(2)
        usage = stopwatch.usage()
    finally:
        for process in hogs + [worker]:
            process.kill()
    # Four busy loops share one CPU: the worker runs about a quarter of the time.
    assert 1.9 < usage.wall < 3 and usage.cpu < 0.5 * usage.wall
    assert usage.waited > 0.4 * usage.wall and usage.time < 0.6 * usage.wall


@pytest.mark.slow
@pytest.mark.skipif(not schedstat_available(), reason="Linux keeps no run-queue waits here")
def test_a_cell_on_a_crowded_cpu_is_not_charged_for_the_wait(tmp_path):
    """A cell that needs about 1.5 s of CPU, on a CPU shared with four busy loops, takes 5 to 8 s
    of wall time: its limit of 4 s is counted without the waits, and it finishes."""
    from rnnlab_engine.kernel import LimitedKernel, RunLimits
    kernel = LimitedKernel(tmp_path, 2**30)
    kernel.start()
    cpu, hogs = crowded_cpu(4)
    try:
        os.sched_setaffinity(kernel.pid, {cpu})  # the thread that runs the cell, beside the busy loops
        loop = "import time\nstarted = time.process_time()\nwhile time.process_time() - started < 1.5:\n    pass"
        outcome = kernel.run(loop, RunLimits(cpu=4, time=4, wall=60))
    finally:
        for hog in hogs:
            hog.kill()
        kernel.close()
    assert outcome.status == "ok", outcome.error
    assert outcome.usage.wall > 4 and outcome.usage.waited > 2 and outcome.usage.time < 4


@pytest.mark.slow
@pytest.mark.parametrize("lab", available_labs())
def test_the_reference_keeps_full_marks_under_every_cpu_profile(lab, build, corpus_folder):
    """The reference checked with the real zip as AVX-512, AVX2 and AVX machines would
    (OpenBLAS's SkylakeX, Haswell and Sandybridge kernels; torch's to match): in process, for
    the numbers do not depend on the engine's isolation, which test_grading tests."""
    from rnnlab.authoring.verify import platforms, verify
    chosen = platforms()
    if len(chosen) < 2:
        pytest.skip("this CPU runs fewer than two profiles")
    by_platform, differences = verify(lab, chosen, reference_only=True, log=lambda line: None, in_process=True,
                                      built=build(lab))
    assert differences == [] and len(by_platform) == len(chosen)
    assert all(found["reference"] for found in by_platform.values())


def test_verify_names_each_verdict_that_differs_and_correct_code_that_loses_points():
    from rnnlab.authoring.verify import differences
    same = {"q1": (2.0, 2.0, ()), "q8": (2.0, 2.0, ())}
    by_platform = {
        "SkylakeX": {"reference": {"q1": (2.0, 2.0, ()), "q8": (1.0, 2.0, ("test_counts",))}, "buggy": same},
        "Haswell": {"reference": same, "buggy": same},
    }
    assert differences(by_platform) == [
        "reference q8: 1 points (failed test_counts) on SkylakeX; 2 points on Haswell",
        "reference loses points on SkylakeX: q8"]
    assert differences({"SkylakeX": {"buggy": same}, "Haswell": {"buggy": same}}) == []
    # out of time everywhere: no case failed, the same verdict on each platform, still a loss
    timed_out = {"reference": {"q1": (2.0, 2.0, ()), "q8": (0.0, 2.0, ())}}
    assert differences({"SkylakeX": timed_out, "Haswell": timed_out}) == [
        "reference loses points on SkylakeX: q8", "reference loses points on Haswell: q8"]
