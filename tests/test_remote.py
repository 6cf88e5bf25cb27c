"""The line between the checks and student code: plain data crosses, code never does."""

import io
import json
import socket
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from rnnlab_engine.remote import ALIGNMENT, MAX_MESSAGE, Connection, PeerGone, ProtocolError, RemoteCallable, _Encoder

STUDENT_CODE = '''
import collections
import numpy as np
import torch

def double_in_place(x, factor=2):
    x *= factor
    return x.sum()

def vocabulary():
    return collections.defaultdict(lambda: 3, {"a": 0, 1: "b"}), {(1, 2): [None, ..., 2**70, float("nan")]}

def calls_back(callback, x):
    return callback(x) + 1

def reach_into(function):
    # a raw request, past the handle's own refusal of dunder names
    return function._connection.request("getattr", function._id, "__globals__")

def leaks_stop_iteration():
    raise StopIteration

def spoofing():
    class Fake:
        pass
    Fake.__module__, Fake.__qualname__ = "torch", "Tensor"
    class FakeList:
        pass
    FakeList.__module__, FakeList.__qualname__ = "builtins", "list"
    return Fake(), FakeList()

def fails():
    return {}["missing"]

def per_step_states():
    return {-1: np.zeros((3, 1)), 0: np.full((3, 1), 0.5), 1: np.ones((3, 1))}, collections.defaultdict(
        list, {0: np.ones(2), 1: np.ones(2)})

def hidden_states():
    weight = torch.ones(2, requires_grad=True)
    hidden = weight * 3
    return hidden, hidden.detach()

def custom():
    class Box:
        value = 7
    return Box(), np.array([object()], dtype=object)

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 4)
    def forward(self, x, state=None):
        return self.lstm(x, state)

def fit(model, steps, clear):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    state = None
    for _ in range(steps):
        out, state = model(torch.ones(2, 1, 3), state)
        for tensor in state:
            tensor.detach_()
        loss = out.pow(2).sum()
        if clear:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
'''


@pytest.fixture
def env():
    """The checks' view of a worker thread that serves STUDENT_CODE's globals."""
    trusted_end, worker_end = socket.socketpair()
    namespace = {}
    exec(STUDENT_CODE, namespace)

    def serve():
        worker = Connection(worker_end)
        worker.export(namespace)
        worker.serve()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    connection = Connection(trusted_end, trusted=True)
    yield RemoteCallable(connection, 0, ["builtins.dict"])
    connection.close()
    thread.join(5)


def test_values_cross_as_copies_and_in_place_changes_are_seen_not_applied(env):
    """Student code cannot change the checks' own arrays (to make a later expectation
    trivial); a check that asks whether a function modifies its inputs sees the copies."""
    x = np.arange(4.0)
    function = env["double_in_place"]
    assert function(x, factor=3) == 18.0
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
    args, kwargs = function.arguments_after_call
    assert args[0].tolist() == [0.0, 3.0, 6.0, 9.0] and kwargs == {"factor": 3}


def test_containers_keep_their_types(env):
    word_to_idx, other = env["vocabulary"]()
    assert word_to_idx["unknown"] == 3 and word_to_idx[1] == "b"
    values = other[(1, 2)]
    assert values[:3] == [None, Ellipsis, 2**70] and np.isnan(values[3])


def test_per_step_dicts_of_arrays_keep_their_keys(env):
    """A forward pass's {t: state} crosses as one buffer: the same keys, values and dict."""
    states, grouped = env["per_step_states"]()
    assert type(states) is dict and list(states) == [-1, 0, 1]
    assert [float(v[0, 0]) for v in states.values()] == [0.0, 0.5, 1.0] and states[0].shape == (3, 1)
    states[0] += 1  # each value is its own array
    assert float(states[1][0, 0]) == 1.0
    assert type(grouped).__name__ == "defaultdict" and grouped[5] == []
    buffers = []
    encoded = _Encoder(None, buffers).encode({t: np.full((3, 1), t / 2) for t in (-1, 0, 1)})
    assert set(encoded) == {"$arraydict", "keys"} and len(buffers) == 1 and buffers[0].shape == (3, 3, 1)


def test_a_dict_of_arrays_whose_keys_do_not_pair_up_is_refused():
    trusted_end, worker_end = socket.socketpair()
    header = json.dumps({"kind": "reply", "body": [{"$arraydict": 0, "keys": [0, 1, 2]}, None],
                         "buffers": [["<f8", [2, 3]]]}).encode()
    padding = bytes(-(8 + len(header)) % ALIGNMENT)  # each array starts at an aligned offset
    payload = struct.pack(">Q", len(header)) + header + padding + np.zeros((2, 3)).tobytes()
    worker_end.sendall(struct.pack(">Q", len(payload)) + payload)
    with pytest.raises(ProtocolError, match="pair up"):
        Connection(trusted_end, trusted=True).request("call", 0, [], {})


def test_callbacks_run_on_the_calling_side(env):
    seen = []

    def callback(x):
        seen.append(type(x))
        return x * 10

    assert env["calls_back"](callback, np.ones(2)).tolist() == [11.0, 11.0]
    assert seen == [np.ndarray]


def test_exceptions_keep_builtin_types_and_say_where(env):
    with pytest.raises(KeyError, match="missing") as raised:
        env["fails"]()
    assert "in fails" in str(raised.value)


def test_objects_stay_behind_as_handles(env):
    box, objects = env["custom"]()
    assert box.value == 7 and type(objects).__name__ == "RemoteObject"
    model = env["Model"]()
    assert isinstance(model, torch.nn.Module)
    assert [type(m) for m in model.modules()][0] is not torch.nn.LSTM
    assert [isinstance(m, torch.nn.LSTM) for m in model.modules()] == [False, True]
    out, _ = model(torch.ones(2, 1, 3))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1, 4)


def test_a_pickled_array_is_refused():
    """Whatever the worker sends, the trusted side never unpickles: an object array is refused."""
    trusted_end, worker_end = socket.socketpair()
    header = json.dumps({"kind": "reply", "body": [{"$array": 0}, None],
                         "buffers": [["|O", [1]]]}).encode()
    payload = struct.pack(">Q", len(header)) + header + b"\x80\x04K\x01."
    worker_end.sendall(struct.pack(">Q", len(payload)) + payload)
    with pytest.raises(ProtocolError, match="dtype object"):
        Connection(trusted_end, trusted=True).request("call", 0, [], {})


def test_an_oversized_message_is_refused_unread():
    trusted_end, worker_end = socket.socketpair()
    worker_end.sendall(struct.pack(">Q", MAX_MESSAGE + 1))
    with pytest.raises(PeerGone, match="over the limit"):
        Connection(trusted_end, trusted=True).request("len", 0)


def test_errors_of_the_trusted_side_carry_no_traceback(env):
    """The reference solution's source must not reach the student through an error message."""
    def reference(x):
        raise ValueError("bad input")

    with pytest.raises(ValueError) as raised:  # crossed to the student's code and back
        env["calls_back"](reference, 1)
    assert "bad input" in str(raised.value) and "def reference" not in str(raised.value)
    assert "test_remote.py" not in str(raised.value)


def connected(path, timeout=10):
    """A socket connected to whoever listens at ``path``, as soon as someone does."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_worker_process_death_is_peer_gone(tmp_path):
    path = str(tmp_path / "s")
    code = f"import os, sys; sys.path.insert(0, {sys.path[0]!r})\nfrom rnnlab_engine.remote import serve\n" \
           f"def die(): os._exit(3)\nserve({path!r}, globals())"
    worker = subprocess.Popen([sys.executable, "-c", code])
    with pytest.raises(PeerGone):
        RemoteCallable(Connection(connected(path), trusted=True), 0, [])["die"]()
    assert worker.wait(10) == 3


def test_student_code_cannot_reach_into_the_checks_objects(env):
    """A handle on a reference function may be called, never opened up: its attributes lead
    to its code and to everything in the checker (``__globals__``, ``__builtins__``)."""
    def reference(x):
        return x

    assert env["calls_back"](reference, 1) == 2
    with pytest.raises(PermissionError, match="'getattr' is not allowed"):
        env["reach_into"](reference)


def test_stop_iteration_ends_only_iterations(env):
    """``all(map(student_function, ...))`` must not read a StopIteration as 'all passed'."""
    with pytest.raises(Exception) as raised:
        env["leaks_stop_iteration"]()
    assert not isinstance(raised.value, StopIteration) and "StopIteration" in str(raised.value)
    assert list(iter(env["vocabulary"]()[0])) == ["a", 1]


def test_handles_cannot_pass_for_data(env):
    tensor_like, list_like = env["spoofing"]()
    assert not isinstance(tensor_like, torch.Tensor) and not isinstance(list_like, list)


def test_a_message_of_too_many_objects_is_refused():
    """A few bytes must not make the trusted side build millions of objects."""
    trusted_end, worker_end = socket.socketpair()
    header = json.dumps({"kind": "reply", "body": [{"$arrays": 0}, None],
                         "buffers": [["<f8", [3_000_000, 0]]]}).encode()
    payload = struct.pack(">Q", len(header)) + header
    worker_end.sendall(struct.pack(">Q", len(payload)) + payload)
    with pytest.raises(ProtocolError, match="objects"):
        Connection(trusted_end, trusted=True).request("call", 0, [], {})


@pytest.mark.slow  # its kernel listens after a second, by design
def test_the_checks_talk_to_their_own_kernel_only(tmp_path):
    """The checks connect once the kernel listens, and keep the line only if the process
    listening is the kernel: not a process it started (which could stand in for it)."""
    from rnnlab_engine.checker import _connect_kernel
    listen = "import socket, sys, time\ntime.sleep(1.0)\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\n" \
             "s.listen(1)\nc, _ = s.accept()\nc.recv(1)"
    for name, is_the_kernel in (("q5.sock", True), ("q6.sock", False)):
        path = str(tmp_path / name)
        listening = subprocess.Popen([sys.executable, "-c", listen, path])
        said = io.StringIO()
        line = _connect_kernel({"question": "q5", "socket": path, "wait": 10,
                                "pid": listening.pid if is_the_kernel else listening.pid + 1}, said)
        assert json.loads(said.getvalue()) == {"listening": path}  # ready before the kernel listens
        if is_the_kernel:
            pid = struct.unpack("3i", line.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            assert pid == listening.pid
            line.close()
        else:
            assert line is None
        listening.wait(10)


def test_a_tensor_that_carries_a_graph_arrives_marked_as_such(env):
    """What the truncated-BPTT check of char_rnn_torch reads: the value, and whether it was detached."""
    from rnnlab_checks.torch_models import has_graph

    attached, detached = env["hidden_states"]()
    assert attached.tolist() == detached.tolist() == [3.0, 3.0]
    assert has_graph(attached) and not has_graph(detached)
    assert attached.grad_fn is None and not attached.requires_grad  # data only: no autograd crosses


@pytest.mark.slow  # trains three steps in a worker that loads torch
def test_gradients_left_from_the_step_before_are_seen_through_a_handle(env):
    """The student's model and loop stay in the kernel; a hook on its parameters, run there,
    asks the kernel's torch for the norm of what .grad held when each backward() began, and
    leaves the outputs alone (the loop detaches its state in place)."""
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import LeftoverGradients, check_gradients_cleared
    for clear in (True, False):
        model = env["Model"]()
        with LeftoverGradients(env, model) as leftovers:
            env["fit"](model, 3, clear)
        assert len(leftovers.norms) == 3 and leftovers.norms[0] == 0
        if clear:
            assert leftovers.norms == [0, 0, 0]
            check_gradients_cleared("fit", leftovers)
        else:
            assert min(leftovers.norms[1:]) > 0
            with pytest.raises(CheckFailure, match="backward\\(\\) call 2 began, the parameters' .grad still held"):
                check_gradients_cleared("fit", leftovers)


def test_a_zip_whose_kernel_connects_to_the_checks_is_refused(tmp_path):
    """The kernel may connect to nothing: a zip built when its end of the line connected
    cannot be graded here (its own engine still grades it on Gradescope)."""
    from pathlib import Path

    from rnnlab_engine import remote
    from rnnlab_engine.grading import Autograder, ZipTooOld
    (tmp_path / "rnnlab_engine").mkdir()
    (tmp_path / "rnnlab_engine" / "remote.py").write_text("def serve(path, namespace):\n    sock.connect(path)\n")
    with pytest.raises(ZipTooOld, match="build it again"):
        Autograder(tmp_path)
    (tmp_path / "rnnlab_engine" / "remote.py").write_text(Path(remote.__file__).read_text())
    assert Autograder(tmp_path).source == tmp_path
