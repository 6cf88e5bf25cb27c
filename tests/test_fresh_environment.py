"""A student's first hour and an upload, on a machine with nothing of rnnlab: a fresh virtual
environment made from the student zip's ``requirements.txt`` alone opens the notebook in a real
JupyterLab server, runs its cells and ``grader.check`` in the server's kernel, writes the
hand-in zip with the notebook's last cell; the autograder zip's own entry point grades that
zip in Gradescope's folder layout, in the same environment.

The lab is ``char_rnn_numpy``, whose environment has no torch (the torch labs' pins are the
same lines plus torch's CPU build, from an index this test may not reach)."""

import json
import os
import socket
import subprocess
import time
import urllib.request
import venv
import zipfile

import pytest

from rnnlab_engine.isolation.probe import sandbox

pytestmark = pytest.mark.slow  # installs a new virtual environment and grades

LAB = "char_rnn_numpy"

# Runs in the fresh environment: talks to the JupyterLab server as its front end does (the
# REST API for the page, the notebook and a session; the kernel's websocket for each cell).
FRONT_END = r'''
import json, sys, urllib.request, uuid
from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

base, token, path = sys.argv[1:4]
headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}


def http(method, where, body=None):
    request = urllib.request.Request(base + where, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read().decode()


async def main():
    page = http("GET", f"/lab/tree/{path}")
    notebook = json.loads(http("GET", f"/api/contents/{path}?content=1"))["content"]
    session = json.loads(http("POST", "/api/sessions", {"path": path, "name": path, "type": "notebook",
                                                        "kernel": {"name": "python3"}}))
    channels = await websocket_connect(HTTPRequest(
        base.replace("http", "ws") + f"/api/kernels/{session['kernel']['id']}/channels", headers=headers))

    async def execute(code, traceback=False):
        msg_id = uuid.uuid4().hex
        channels.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "student",
                       "session": session["id"], "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        text, status, idle = [], None, False
        while status is None or not idle:
            message = json.loads(await channels.read_message())
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind == "error":
                text.append("\n".join(content["traceback"]) if traceback else f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return status, "".join(text)

    # A Python without a package the notebook needs: the first cell says so in one line.
    with open("requirements.txt") as pins:
        pinned = pins.read()
    with open("requirements.txt", "a") as pins:
        pins.write("torch==2.13.0\n")
    missing = await execute(notebook["cells"][0]["source"], traceback=True)
    with open("requirements.txt", "w") as pins:
        pins.write(pinned)
    failed = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "otter_ignore" not in cell["metadata"].get("tags", []):
            status, text = await execute(cell["source"])
            if status != "ok":
                failed.append(text[-500:])
    questions = [c["source"].split('"')[1] for c in notebook["cells"] if c["source"].startswith('grader.check("')]
    status, text = await execute("import json\nprint(json.dumps({q: bool(grader.check(q).passed_all) for q in "
                                 f"{questions!r}}}))")
    http("DELETE", f"/api/sessions/{session['id']}")
    print(json.dumps({"page": "JupyterLab" in page, "missing": missing, "failed": failed,
                      "checks": json.loads(text.splitlines()[-1])}))


IOLoop.current().run_sync(main)
'''


@pytest.fixture
def fresh_python(tmp_path_factory, once, build):
    """A new virtual environment holding what the student zip's requirements.txt pins (made once)."""
    requirements = build(LAB).student_notebook.parent / "requirements.txt"

    def make():
        folder = tmp_path_factory.mktemp("fresh-venv")
        folder.chmod(0o755)  # as an installed Python is: the kernel's own user must run it
        venv.create(folder, with_pip=True)
        python = folder / "bin" / "python"
        # --no-compile, as the student zip's README says: Python compiles what is imported
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", "-r", str(requirements)],
                       check=True, timeout=1200)
        return python
    python = once("fresh-python", make)
    for package in ("rnnlab", "rnnlab_engine", "rnnlab_checks", "torch"):
        probe = subprocess.run([str(python), "-c", f"import {package}"], capture_output=True, cwd=python.parent)
        assert probe.returncode != 0, f"{package} must not be importable in the fresh environment"
    return python


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyterlab(fresh_python, tmp_path):
    """A JupyterLab server of the fresh environment on loopback, serving ``tmp_path/student``:
    its address and token."""
    (tmp_path / "student").mkdir()
    port, token = free_port(), "rnnlab-test"
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
                   "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
                   "IPYTHONDIR": str(tmp_path / "ipython")}
    server = subprocess.Popen([str(fresh_python.parent / "jupyter"), "lab", "--no-browser", "--allow-root",
                               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={tmp_path / 'student'}"],
                              env=environment, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers={
                "Authorization": f"token {token}"}), timeout=5).read()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-2000:]
            time.sleep(0.5)
    yield base, token
    server.terminate()
    server.wait(timeout=30)


def test_student_environment_runs_the_notebook_in_jupyterlab_and_its_hand_in_grades_on_gradescope(
        build, fresh_python, jupyterlab, tmp_path):
    built = build(LAB)
    student = tmp_path / "student"
    with zipfile.ZipFile(built.student_bundle) as bundle:
        bundle.extractall(student)
    assert (student / "README.md").read_text().count("requirements.txt") >= 2
    # the student's work, saved: the reference solution in the handed-out notebook's place
    (student / f"{LAB}.ipynb").write_bytes(built.solution_notebook.read_bytes())
    base, token = jupyterlab
    front_end = tmp_path / "front_end.py"
    front_end.write_text(FRONT_END)
    completed = subprocess.run([str(fresh_python), str(front_end), base, token, f"{LAB}.ipynb"],
                               capture_output=True, text=True, timeout=600, cwd=student)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["missing"] == ["error", "MissingPackages: this Python lacks torch, which the notebook needs: pip "
                                 "install -r requirements.txt (on Colab or a JupyterHub: !pip install -r "
                                 "requirements.txt), then restart the kernel."], report["missing"]
    assert report["page"] and report["failed"] == [], report
    assert len(report["checks"]) == 10 and all(report["checks"].values()), report["checks"]

    # The hand-in cell wrote the zip to upload; Gradescope unpacks it into /autograder/submission.
    (handed_in,) = student.glob(f"{LAB}_*.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(built.autograder_zip) as archive:
        archive.extractall(root / "source")
    with zipfile.ZipFile(handed_in) as archive:
        archive.extractall(root / "submission")
    # What run_autograder does once the environment is active.
    subprocess.run([str(fresh_python), "-m", "rnnlab_engine.gradescope", "--root", str(root)],
                   check=True, cwd=root / "source", capture_output=True, timeout=600)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 27 and len(results["tests"]) == 10, results
    assert results["rnnlab"]["isolation"]["separate_user"] == (os.geteuid() == 0)
    assert bool(results["rnnlab"]["isolation"]["allow_listed_view"]) == sandbox().allow_listed
