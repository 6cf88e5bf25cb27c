"""Grading on a Dask cluster: a real ``dask scheduler`` and two ``dask worker`` processes on
loopback, one of which advertises a GPU, and one of which is killed in the middle of a batch."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from rnnlab.batch import cluster
from rnnlab.batch.batch import collect, grade_all
from rnnlab.cli import main as cli_main
from rnnlab_engine.grading import Autograder, unpacked

DASK = str(Path(sys.executable).with_name("dask"))
START_WAIT = 60


def test_a_submission_travels_to_a_worker_whole(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    folder = tmp_path / "bob"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "bob.ipynb").write_text("{}")
    (folder / "checkpoints" / "rnn.pt").write_bytes(b"\x00\x01")
    (folder / "elsewhere").symlink_to("/etc/passwd")
    for original in (notebook, folder):
        target = tmp_path / "worker" / original.name
        target.parent.mkdir(exist_ok=True)
        copy = cluster.unpacked_submission(cluster.packed(original), target.parent)
        assert copy == target
        if original.is_file():
            assert copy.read_bytes() == original.read_bytes()
        else:
            assert (copy / "checkpoints" / "rnn.pt").read_bytes() == b"\x00\x01"
            assert os.readlink(copy / "elsewhere") == "/etc/passwd"  # refused there as here, never followed


def test_a_lab_picks_a_device_when_its_checks_call_pick_device(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "files").mkdir()
    (tmp_path / "tests" / "q1.py").write_text("def test(model): pass\n")
    assert not Autograder(tmp_path).picks_a_device
    (tmp_path / "files" / "lab_checks.py").write_text("from rnnlab_checks.devices import pick_device\n")
    assert Autograder(tmp_path).picks_a_device


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.3)
    (tmp_path / "alice.ipynb").write_text("{}")
    assert cli_main(["grade", "rnn_lstm_numpy", str(tmp_path / "alice.ipynb"), "--out", str(tmp_path / "out"),
                     "--scheduler", "tcp://127.0.0.1:9", "--autograder", str(_any_zip(tmp_path))]) != 0
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "submission/s" not in line]  # the bar
    assert len(err) == 1 and "no Dask scheduler answers at tcp://127.0.0.1:9" in err[0]
    assert not (tmp_path / "out" / "alice").exists()


def _any_zip(tmp_path):
    """A zip with one test file: enough to reach the scheduler's address."""
    import zipfile

    path = tmp_path / "autograder.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tests/q1.py", "OK_FORMAT = False\n")
    return path


class Cluster:
    """A ``dask scheduler`` and named ``dask worker`` processes on loopback, each worker with
    one thread and no nanny (killed, it stays dead)."""

    def __init__(self, folder):
        self.folder = folder
        self.environment = {**os.environ, "OMP_NUM_THREADS": "1", "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(scheduler_file)], "scheduler")
        deadline = time.monotonic() + START_WAIT
        while not scheduler_file.exists():
            assert time.monotonic() < deadline and self.scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)  # written whole
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers = {}

    def _start(self, command, name):
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.environment,
                                cwd=self.folder)

    def add_worker(self, name, *options):
        self.workers[name] = self._start([DASK, "worker", self.address, "--name", name, "--nthreads", "1",
                                          "--no-nanny", "--no-dashboard", *options], name)

    def stop(self):
        for process in [*self.workers.values(), self.scheduler]:
            process.kill()
            process.wait()


@pytest.fixture
def dask_cluster(tmp_path):
    from distributed import Client

    running = Cluster(tmp_path)
    try:
        running.add_worker("gpu-worker", "--resources", f"{cluster.GPU_RESOURCE}=1")
        running.add_worker("cpu-worker")
        with Client(running.address, timeout=START_WAIT) as client:
            client.wait_for_workers(2, timeout=START_WAIT)
        yield running
    finally:
        running.stop()


def _copies(notebook, folder, names, first_cell=None):
    """``folder`` with a copy of ``notebook`` per name, with ``first_cell`` put first."""
    folder.mkdir(exist_ok=True)
    for name in names:
        copy = nbformat.read(notebook, as_version=4)
        if first_cell:
            copy.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
        nbformat.write(copy, folder / f"{name}.ipynb")
    return folder


@pytest.mark.slow
def test_a_batch_survives_a_worker_killed_mid_task_and_resumes(dask_cluster, build, first_questions_zip,
                                                                first_questions_notebook, tmp_path):
    from distributed import Client

    # The torch lab's checks pick a device: its submissions ask for the GPU, and go to the
    # worker that has one alone; the NumPy lab's ask for nothing.
    torch_lab = build("char_rnn_torch")
    with Client(dask_cluster.address, timeout=START_WAIT) as client, \
            unpacked(torch_lab.autograder_zip) as torch_zip, unpacked(first_questions_zip) as numpy_zip:
        assert cluster.task_resources(torch_zip, client) == {cluster.GPU_RESOURCE: 1}
        assert cluster.task_resources(numpy_zip, client) is None
    torch_folder = _copies(torch_lab.student_notebook, tmp_path / "torch", ["ann", "ben"])
    torch_results = grade_all(torch_lab.autograder_zip, collect([torch_folder], tmp_path), tmp_path / "out-torch",
                              progress=False, scheduler=dask_cluster.address)
    assert [r.submission for r in torch_results] == ["ann", "ben"]
    assert all("Dask worker gpu-worker" in r.grader and r.status != "error" for r in torch_results)

    # A batch of four, one of which sleeps in its first cell: its worker is killed while it
    # grades it, and the other worker grades it instead, once.
    folder = _copies(first_questions_notebook, tmp_path / "batch", ["a", "b", "c"])
    _copies(first_questions_notebook, folder, ["sleeper"], "import time\ntime.sleep(8)")
    submissions = collect([folder], tmp_path)
    out = tmp_path / "out"
    finished = {}
    batch = threading.Thread(target=lambda: finished.update(results=grade_all(
        first_questions_zip, submissions, out, progress=False, scheduler=dask_cluster.address)))
    batch.start()
    killed = None
    with Client(dask_cluster.address, timeout=START_WAIT) as client:
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline:
            executing = client.run(lambda dask_worker: [str(k) for k, task in dask_worker.state.tasks.items()
                                                        if task.state == "executing"])
            for address, keys in executing.items():
                if any(key.startswith("rnnlab-sleeper-") for key in keys):
                    name = client.scheduler_info()["workers"][address]["name"]
                    os.kill(dask_cluster.workers[name].pid, signal.SIGKILL)
                    killed = name
            time.sleep(0.2)
    assert killed is not None, "the sleeper never ran"
    batch.join(timeout=300)
    assert not batch.is_alive()
    results = {r.submission: r for r in finished["results"]}
    assert sorted(results) == ["a", "b", "c", "sleeper"]
    survivor = next(name for name in dask_cluster.workers if name != killed)
    assert f"Dask worker {survivor}" in results["sleeper"].grader
    assert {r.score for r in results.values()} == {results["a"].possible} and all(
        r.status == "ok" for r in results.values())
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 5 and all((out / name / "results.json").is_file() for name in results)

    # Graded again: nothing is sent to the cluster; every result is the stored one.
    stamps = {name: (out / name / "results.json").stat().st_mtime_ns for name in results}
    again = grade_all(first_questions_zip, collect([folder], tmp_path), out, progress=False,
                      scheduler=dask_cluster.address)
    assert [r.score for r in again] == [results[r.submission].score for r in again]
    assert stamps == {name: (out / name / "results.json").stat().st_mtime_ns for name in results}
