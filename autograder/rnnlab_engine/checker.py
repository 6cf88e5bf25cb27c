"""The trusted side of grading: a lab's tests, run against a student's kernel over a socket.

The grader starts one checker per submission, in the unpacked autograder zip, and sends it
one JSON line per question: ``{"question": "q5", "socket": PATH, "wait": SECONDS, "submission":
FOLDER, "pid": KERNEL}``.  The checker says it is ready; the kernel listens at PATH, in a
folder of its own, and serves the notebook's globals (see ``remote.serve``); the checker
connects, makes sure that the process listening is the kernel, runs ``tests/q5.py`` with them
as ``env`` and prints one JSON line with every case's verdict.  It never runs student code: everything it compares (with
its own numpy, its own ``rnnlab_checks``, the reference solution next to it) arrived as
data.  Only the grader reads what it prints.
"""

import ast
import importlib
import importlib.util
import json
import os
import queue
import resource
import socket
import struct
import threading
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import IO, Any, NotRequired, TypedDict

from .remote import Connection, PeerGone, RemoteCallable, garbage_collector_on_new_objects_only
from .results import Case

# The checker runs only trusted code, but student code decides some of its inputs (the sizes
# of the arrays it returns, the arguments of the reference functions it calls back): a cap
# on its data turns a runaway into a MemoryError, not a machine out of memory.  (Shared
# libraries, such as torch's, do not count against it.)
CHECKER_DATA_LIMIT = 2 * 2**30
# How often the checks try the kernel's line until it listens.
KERNEL_POLL = 0.005
# Named as ``rnnlab_checks.checkpoints.SUBMISSION_VARIABLE`` and
# ``rnnlab_checks.reference.PROVEN_VARIABLE`` (the checks import nothing of ours).
SUBMISSION_VARIABLE = "RNNLAB_SUBMISSION"
PROVEN_VARIABLE = "RNNLAB_PROVEN"


class Command(TypedDict):
    """What the grader sends for one question, as one JSON line."""

    question: str  # the test file tests/<question>.py
    socket: str  # where the kernel listens
    wait: float  # wall seconds to wait for the kernel, and for each of its answers
    pid: int  # the kernel's process: a line to any other is dropped
    submission: NotRequired[str]  # the submission's folder (its checkpoints)
    passed: NotRequired[list[str]]  # the questions that passed in full before this one


class Report(TypedDict):
    """What the checker answers for one question, as one JSON line (after ``{"listening":
    PATH}`` once the socket is open)."""

    question: str
    cases: list[Case]
    gone: NotRequired[str | None]  # why the kernel's line broke, if it did
    error: NotRequired[str]  # why nothing could run


def main() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (CHECKER_DATA_LIMIT, CHECKER_DATA_LIMIT))
    # The verdicts go out on a descriptor of their own: nothing printed, from Python or C,
    # may mix with them.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    source = Path.cwd()
    sys.path[:0] = [str(source / "files"), str(source)]  # rnnlab_checks, rnnlab_reference
    ExceptionTestFile = otter_test_files().ExceptionTestFile
    takers = questions_taking(source / "tests")

    for line in sys.stdin:
        command: Command = json.loads(line)
        sock = _connect_kernel(command, protocol)
        if sock is None:
            _send(protocol, {"question": command["question"], "cases": [],
                             "error": "the kernel did not open its line to the checks"})
            continue
        sock.settimeout(command["wait"])  # the kernel's side answers within the question's limit
        test_file = ExceptionTestFile.from_file(str(source / "tests" / f"{command['question']}.py"))
        if command.get("submission"):  # where the checks find the files handed in (checkpoints)
            os.environ[SUBMISSION_VARIABLE] = command["submission"]
        os.environ[PROVEN_VARIABLE] = ",".join(proven_functions(takers, command.get("passed", [])))
        with garbage_collector_on_new_objects_only():
            report = run_tests(test_file, Connection(sock, trusted=True))
        _send(protocol, report)


def questions_taking(tests: Path) -> dict[str, set[str]]:
    """For each notebook name a test of ``tests`` takes as an argument (otter passes the
    notebook's global of that name), the questions whose tests take it."""
    takers: dict[str, set[str]] = {}
    for path in tests.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                for argument in node.args.args:
                    if argument.arg != "env":
                        takers.setdefault(argument.arg, set()).add(path.stem)
    return takers


def proven_functions(takers: dict[str, set[str]], passed: list[str]) -> list[str]:
    """The notebook names (of ``questions_taking``) every question of which is in ``passed``:
    the functions a check may run as the student wrote them, where it would otherwise swap
    in the reference's (``rnnlab_checks.reference.judge_fastest_first``)."""
    return sorted(name for name, questions in takers.items() if questions <= set(passed))


_OTTER_IMPORT = threading.Lock()


def otter_test_files() -> ModuleType:
    """otter's own ``otter.test_files`` (which reads and runs a test file), imported before the
    rest of otter: ``otter/__init__`` pulls in its notebook API with pandas and nbconvert, 70
    MB that grading never uses, where a Gradescope container has 768 MB for everything.  The
    package's ``__init__`` runs only if something asks for more of otter."""
    with _OTTER_IMPORT:  # Autograder.questions is first read from batch's threads
        if "otter" not in sys.modules:
            spec = importlib.util.find_spec("otter")
            if spec is None:
                raise ModuleNotFoundError("otter-grader is not installed", name="otter")
            package: Any = importlib.util.module_from_spec(spec)
            loader: Any = spec.loader

            def rest_of_otter(name: str) -> Any:  # the package's own module __getattr__ (PEP 562), once
                del package.__getattr__
                try:
                    loader.exec_module(package)
                except BaseException:
                    package.__getattr__ = rest_of_otter  # the next ask raises the real error again
                    raise
                return getattr(package, name)

            package.__getattr__ = rest_of_otter
            sys.modules["otter"] = package
        return importlib.import_module("otter.test_files")


def _connect_kernel(command: Command, protocol: IO[str]) -> socket.socket | None:
    """Say on ``protocol`` that the checks are ready, then connect to the kernel with pid
    ``command["pid"]`` as soon as it listens at ``command["socket"]``; a line to anyone else (a
    process the kernel started) is dropped."""
    _send(protocol, {"listening": command["socket"]})
    deadline = time.monotonic() + command["wait"]
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(command["socket"])
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            time.sleep(KERNEL_POLL)
            continue
        except OSError:
            sock.close()
            return None
        pid, _, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                        struct.calcsize("3i")))
        if pid == command["pid"]:
            return sock
        sock.close()
        return None
    return None


def run_tests(test_file: Any, connection: Connection) -> Report:
    """Run every case of ``test_file`` against the kernel behind ``connection``."""
    env = RemoteCallable(connection, 0, ["builtins.dict"])
    cases: list[Case] = []
    gone: str | None = None
    for test_case in test_file.test_cases:
        if gone is None:
            try:
                cases.append(judge_case(test_file, test_case, env))
                continue
            except PeerGone as error:
                gone = str(error)
        cases.append({"name": test_case.body.test_func.__name__, "hidden": test_case.hidden, "points": test_case.points,
                      "passed": False, "message": "Not run: your kernel stopped while it was being checked."})
    if gone is None:
        connection.close()
    return {"question": test_file.name, "cases": cases, "gone": gone}


def judge_case(test_file: Any, test_case: Any, env: Any) -> Case:
    """The verdict of one test case of ``test_file`` run with the notebook's globals ``env`` (a
    remote handle while grading, a dict in ``rnnlab.authoring.in_process``).  ``PeerGone``
    passes through: the kernel, not the case, failed."""
    try:
        test_case.body.call_func(env)
        passed, message = True, "✅ Test case passed"
    except PeerGone:
        raise
    except Exception as error:
        from rnnlab_checks.feedback import failure_message  # files/, on the path once the checker runs

        passed, message = False, "❌ Test case failed\n" + failure_message(error, test_case.body.test_func)
    return {"name": test_case.body.test_func.__name__, "hidden": test_case.hidden, "points": test_case.points,
            "passed": passed, "message": message}


def _send(stream: IO[str], message: Report | dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


class CheckerProcess:
    """The grader's handle on a running checker: send a command, read a line, with timeouts."""

    def __init__(self, source: Path) -> None:
        import subprocess
        import threading

        from .kernel import thread_pinning  # the same as the kernel's

        self.process = subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.checker"], cwd=source, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, **thread_pinning(),
                 "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        assert self.process.stdin is not None and self.process.stdout is not None  # both are pipes
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.submissions = 0  # graded to the end so far (``grading.Autograder.keep``)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                continue
        self.lines.put(None)

    def send(self, command: Command) -> bool:
        """Send one command; False when the checker is gone."""
        try:
            self.stdin.write(json.dumps(command) + "\n")
            self.stdin.flush()
            return True
        except OSError:
            return False

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The checker's next line, or None when it has stopped or said nothing in time."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        """Kill the checker; safe to call twice."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
