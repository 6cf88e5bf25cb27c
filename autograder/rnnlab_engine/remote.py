"""Calls across the line between student code and the checks, carrying data and never code.

The checks run in a trusted process; the notebook's functions stay in the student's kernel.
Between the two travel plain values only: None, booleans, numbers, strings, lists, tuples,
dicts, sets, NumPy arrays of numbers or text, and torch tensors, each rebuilt on arrival
from JSON and raw bytes (never a pickle).  Anything else stays where it lives and crosses
as a handle; using a handle (calling it, reading an attribute or an item, iterating over
it) is a request to the side that owns it.  Either side may call the other while it answers
a call, so a student's training loop can call a reference function that never leaves the
trusted process.

This module imports only the standard library and NumPy, so the grader can also run its
source inside the student's kernel.
"""

import base64
import builtins
import contextlib
import functools
import gc
import json
import math
import os
import socket
import struct
import sys
import traceback

import numpy as np

# No legitimate argument or result of a lab comes near this; a bigger message is refused.
MAX_MESSAGE = 128 * 2**20
MAX_OBJECTS = 1_000_000
# The JSON part of a message is parsed whole before anything in it is counted: kept small.
MAX_HEADER = 4 * 2**20
ARRAY_KINDS = "biufcUS"
# Exceptions that keep their type across the line, so ``except KeyError`` works on a handle.
PORTABLE_EXCEPTIONS = {name for name in dir(builtins)
                       if isinstance(getattr(builtins, name), type)
                       and issubclass(getattr(builtins, name), Exception)} - {"StopIteration", "StopAsyncIteration"}
_HEADER = struct.Struct(">Q")
# Integers that JSON carries exactly (a double's mantissa).
_EXACT = 2**53
_JSON_SCALARS = (bool, int, float, str)
# Bytes a message may take on its way (asked for; Linux caps it at net.core.wmem_max).
SOCKET_BUFFER = 4 * 2**20
# Each array of a message starts at a multiple of this many bytes from its start.
ALIGNMENT = 64
_PADDING = bytes(ALIGNMENT)
# Parts of a message per system call (Linux's IOV_MAX).
_MAX_PARTS = 1024
# Set on a tensor that arrived from a tensor with a ``grad_fn`` (not detached).
GRAPH_MARK = "rnnlab_had_graph"
_THIS_FILE = globals().get("__file__", "rnnlab_remote")
# Named as ``rnnlab_checks.feedback.RAISED_IN_KERNEL`` (this file also runs in the kernel, alone).
RAISED_IN_KERNEL = "raised_in_the_student_kernel"


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class PeerGone(BaseException):
    """The other side closed the connection or died; no test can go on after it."""


class RemoteError(Exception):
    """An exception of a type that cannot cross the line, raised on the other side."""


class Connection:
    """One end of a connected stream socket.

    ``trusted`` marks the checks' end: after a call it makes, the other side sends the
    arguments back as the call left them (see ``RemoteCallable``); the other side may only
    call and iterate the objects it hands out; and its errors cross without a traceback,
    which would show the reference solution's source.
    """

    def __init__(self, sock, trusted=False):
        self.sock = sock
        try:  # a model's parameters in one go, not in slices that each wait for the other side
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        except OSError:
            pass
        self.trusted = trusted
        self.exports = {}
        self._export_ids = {}

    # -- this side asks -------------------------------------------------------------------
    def request(self, op, target, *payload):
        """Run ``op`` on the other side's object ``target``; returns its decoded result."""
        self._send({"kind": "request", "op": op, "target": target, "echo": self.trusted},
                   payload)
        while True:
            header, body = self._receive()
            if header["kind"] == "request":
                self._answer(header, body)
            elif header["kind"] == "reply":
                return self._reply_value(op, header, body)
            elif header["kind"] == "close":
                raise PeerGone("the other side closed the connection")
            else:
                raise ProtocolError(f"unknown message kind {header['kind']!r}")

    def serve(self):
        """Answer requests until the other side says ``close``."""
        while True:
            header, body = self._receive()
            if header["kind"] == "close":
                return
            if header["kind"] != "request":
                raise ProtocolError(f"expected a request, got {header['kind']!r}")
            self._answer(header, body)

    def close(self):
        """Tell the other side to stop serving, then close the socket."""
        try:
            self._send({"kind": "close"}, ())
        except PeerGone:
            pass
        self.sock.close()

    # -- this side answers ----------------------------------------------------------------
    def _answer(self, header, body):
        try:
            if self.trusted and header["op"] not in _TRUSTED_SIDE_OPERATIONS:
                raise PermissionError(f"{header['op']!r} is not allowed on the checks' objects")
            target = self.exports[header["target"]]
            result, echoed = _OPERATIONS[header["op"]](target, *body), None
            if header["op"] == "call" and header.get("echo"):
                echoed = body[:2]
            self._send({"kind": "reply"}, (result, echoed))
        except (Exception, SystemExit) as error:
            self._send({"kind": "reply", "error": _describe(error, with_traceback=not self.trusted)}, ())

    def _reply_value(self, op, header, body):
        if "error" in header:
            if op == "next" and header["error"].get("type") == "StopIteration":
                raise StopIteration  # the end of an iteration; anywhere else it would end a loop silently
            error = _rebuild(header["error"])
            if self.trusted:  # the checks' end: the student's code raised it
                setattr(error, RAISED_IN_KERNEL, True)
            raise error
        return body  # [result, the arguments after a call (or None)]

    # -- the wire -------------------------------------------------------------------------
    def export(self, value):
        """The id under which the other side can reach ``value``."""
        key = id(value)
        if key not in self._export_ids:
            self._export_ids[key] = len(self.exports)
            self.exports[len(self.exports)] = value
        return self._export_ids[key]

    def _send(self, header, payload):
        buffers = []
        body = _Encoder(self, buffers).encode(list(payload))
        header = dict(header, body=body, buffers=[[b.dtype.str, list(b.shape)] for b in buffers])
        text = json.dumps(header).encode()
        # The arrays go out from their own memory (no copy here), each at an aligned offset,
        # so that the other side's views of them are aligned too.
        parts, offset = [text], _HEADER.size + len(text)
        for array in buffers:
            if array.nbytes and offset % ALIGNMENT:
                parts.append(_PADDING[:ALIGNMENT - offset % ALIGNMENT])
                offset += len(parts[-1])
            parts.append(_bytes_of(array))
            offset += array.nbytes
        if offset > MAX_MESSAGE:
            raise ProtocolError(f"a message of {offset / 2**20:.0f} MB is over the limit of "
                                f"{MAX_MESSAGE // 2**20} MB")
        try:
            self._send_all([_HEADER.pack(offset) + _HEADER.pack(len(text))] + parts)
        except OSError as error:
            raise PeerGone(f"the connection broke ({error})") from None

    def _send_all(self, parts):
        """Send ``parts`` (bytes-like) in order, as few system calls as the socket allows."""
        views = [memoryview(p) for p in parts if len(p)]
        while views:
            sent = self.sock.sendmsg(views[:_MAX_PARTS])
            while sent:
                if sent >= len(views[0]):
                    sent -= len(views.pop(0))
                else:
                    views[0], sent = views[0][sent:], 0

    def _receive(self):
        (total,) = _HEADER.unpack(self._exactly(_HEADER.size))
        if total > MAX_MESSAGE:
            raise PeerGone(f"the other side sent a message of {total / 2**20:.0f} MB, over the "
                           f"limit of {MAX_MESSAGE // 2**20} MB")
        data = self._exactly(total)
        (size,) = _HEADER.unpack(data[:_HEADER.size])
        if size > MAX_HEADER:
            raise PeerGone(f"the other side sent a message with {size / 2**20:.0f} MB of structure, "
                           f"over the limit of {MAX_HEADER // 2**20} MB")
        try:
            header = json.loads(bytes(data[_HEADER.size:_HEADER.size + size]))
            offset, buffers = _HEADER.size + size, []
            for dtype, shape in header.pop("buffers"):
                array, offset = _array_from(data, offset, dtype, shape)
                buffers.append(array)
            body = _Decoder(self, buffers).decode(header.pop("body"))
        except ProtocolError:
            raise
        except Exception as error:
            raise ProtocolError(f"an unreadable message ({type(error).__name__}: {error})") from None
        return header, body

    def _exactly(self, size):
        # Uninitialised memory (every byte is received into it), writable, so that the arrays
        # read from it need no copy.
        data = np.empty(size, dtype=np.uint8)
        view, done = memoryview(data), 0
        while done < size:
            try:
                received = self.sock.recv_into(view[done:], min(size - done, 1 << 20))
            except OSError as error:  # a timeout, or a reset
                raise PeerGone(f"the other side did not answer ({error})") from None
            if not received:
                raise PeerGone("the other side closed the connection")
            done += received
        return data


def _bytes_of(array):
    """The bytes of a C-contiguous array, without a copy where its type allows."""
    try:
        return memoryview(array).cast("B")
    except (TypeError, ValueError):  # a buffer format memoryview cannot cast (0-d, odd dtypes)
        return array.tobytes()


def _array_from(data, offset, dtype, shape):
    dtype = _dtype(dtype)
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError(f"bad array shape {shape}")
    size = dtype.itemsize * math.prod(shape)
    if size:
        offset += -offset % ALIGNMENT
    if offset + size > len(data):
        raise ProtocolError("an array runs past the end of the message")
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape), offset + size


@functools.lru_cache(maxsize=256)
def _dtype(name):
    dtype = np.dtype(name)
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.fields:
        raise ProtocolError(f"arrays of dtype {dtype} cannot cross")
    return dtype


class _Encoder:
    def __init__(self, connection, buffers):
        self.connection, self.buffers, self.arrays = connection, buffers, {}

    def encode(self, value):
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return value if -_EXACT < value < _EXACT else {"$int": str(value)}
        if kind is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if kind is np.ndarray and value.dtype.kind in ARRAY_KINDS and not value.dtype.fields:
            return {"$array": self._buffer(value)}
        if kind is list and _plain_values(value):  # token ids, losses: JSON as they are
            return value
        if value is Ellipsis:
            return {"$ellipsis": True}
        if isinstance(value, RemoteObject) and value._connection is self.connection:
            return {"$ref": value._id}
        if isinstance(value, np.ndarray) and value.dtype.kind in ARRAY_KINDS and not value.dtype.fields:
            return {"$array": self._buffer(value)}
        if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
            return {"$scalar": self._buffer(np.asarray(value))}
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor) and not value.is_complex():
            array = value.detach().cpu()
            if array.dtype == torch.bfloat16:
                array = array.float()
            encoded = {"$tensor": self._buffer(array.numpy()), "dtype": str(value.dtype)}
            if value.grad_fn is not None:  # what a truncated-BPTT check asks: is it detached?
                encoded["graph"] = True
            return encoded
        if isinstance(value, list):
            if _same_shaped_arrays(value):  # a sequence of hidden states travels as one buffer
                return {"$arrays": self._buffer(np.stack(value))}
            return [self.encode(v) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v) for v in value]}
        if type(value) is dict and _same_shaped_arrays(list(value.values())):
            # per-step states and probabilities ({t: (H, 1)}): one buffer, not one per step
            keys = list(value)
            return {"$arraydict": self._buffer(np.stack(list(value.values()))),
                    "keys": keys if _plain_values(keys) else [self.encode(k) for k in keys]}
        if isinstance(value, dict):
            encoded = {"$dict": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
            factory = getattr(value, "default_factory", "absent")
            if factory != "absent":
                encoded["default"] = {"$none": True} if factory is None else self.encode(factory())
            return encoded
        if isinstance(value, (set, frozenset)):
            return {"$set": [self.encode(v) for v in value]}
        if isinstance(value, bytes):
            return {"$bytes": base64.b64encode(value).decode()}
        if isinstance(value, slice):
            return {"$slice": [self.encode(value.start), self.encode(value.stop), self.encode(value.step)]}
        if isinstance(value, complex):
            return {"$complex": [value.real, value.imag]}
        if isinstance(value, (int, float, str)):  # subclasses (enums, numpy's str_) as the base type
            return self.encode(int(value) if isinstance(value, int) else
                               float(value) if isinstance(value, float) else str(value))
        return {"$handle": self.connection.export(value), "callable": callable(value),
                "types": [f"{getattr(k, '__module__', '')}.{getattr(k, '__qualname__', '')}"
                          for k in type(value).__mro__[:-1][:20]]}

    def _buffer(self, array):
        key = id(array)
        if key not in self.arrays:  # one array passed twice arrives as one array
            self.arrays[key] = (len(self.buffers), array)  # kept alive, so that its id stays unique
            self.buffers.append(array if array.flags.c_contiguous else array.copy(order="C"))
        return self.arrays[key][0]


def _plain_values(values):
    """Whether every item of ``values`` is JSON that reads back as itself (no big int, no nan)."""
    for value in values:
        kind = type(value)
        if kind is int:
            if not -_EXACT < value < _EXACT:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif not (kind is str or kind is bool or value is None):
            return False
    return True


def _same_shaped_arrays(values):
    if len(values) < 2 or type(values[0]) is not np.ndarray:
        return False
    first = values[0]  # 0-d arrays stay arrays: stacked, they would come back as scalars
    return first.ndim > 0 and first.dtype.kind in ARRAY_KINDS and not first.dtype.fields and all(
        type(v) is np.ndarray and v.shape == first.shape and v.dtype == first.dtype for v in values)


class _Decoder:
    def __init__(self, connection, buffers):
        self.connection, self.buffers, self.objects = connection, buffers, 0

    def _count(self, objects):
        self.objects += objects
        if self.objects > MAX_OBJECTS:
            raise ProtocolError(f"a message of more than {MAX_OBJECTS:,} objects")

    def decode(self, value):
        self._count(1)
        kind = type(value)
        if value is None or kind in _JSON_SCALARS:
            return value
        if kind is list:
            if all(type(v) in _JSON_SCALARS or v is None for v in value):
                self._count(len(value))
                return value
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or len(value) < 1:
            raise ProtocolError(f"unexpected {type(value).__name__}")
        tag = next(iter(value))
        if tag == "$array":
            return self.buffers[value[tag]]
        if tag == "$arrays":
            stacked = self.buffers[value[tag]]
            if not stacked.ndim:
                raise ProtocolError("a list of arrays that is not one")
            self._count(len(stacked))
            return list(stacked)
        if tag == "$arraydict":
            stacked, keys = self.buffers[value[tag]], self.decode(value["keys"])
            if type(keys) is not list or not stacked.ndim or len(stacked) != len(keys):
                raise ProtocolError("a dict of arrays whose keys and arrays do not pair up")
            self._count(len(stacked))
            return dict(zip(keys, stacked))
        if tag == "$bytes":
            return base64.b64decode(value[tag])
        if tag == "$scalar":
            return self.buffers[value[tag]][()]
        if tag == "$tensor":
            import torch
            tensor = torch.from_numpy(self.buffers[value[tag]])
            dtype = getattr(torch, str(value["dtype"]).removeprefix("torch."), None)
            if not isinstance(dtype, torch.dtype):
                raise ProtocolError(f"unknown tensor dtype {value['dtype']!r}")
            tensor = tensor.to(dtype)
            # Data only: autograd does not cross the line, only the fact that the sender's
            # tensor was the output of a graph (``GRAPH_MARK``).
            if value.get("graph") is True:
                setattr(tensor, GRAPH_MARK, True)
            return tensor
        if tag == "$tuple":
            return tuple(self.decode(v) for v in value[tag])
        if tag == "$dict":
            items = {self.decode(k): self.decode(v) for k, v in value[tag]}
            if "default" not in value:
                return items
            from collections import defaultdict
            default = value["default"]
            if default == {"$none": True}:
                return defaultdict(None, items)
            return defaultdict(_Constant(self.decode(default)), items)
        if tag == "$set":
            return set(self.decode(v) for v in value[tag])
        if tag == "$slice":
            return slice(*(self.decode(v) for v in value[tag]))
        if tag == "$complex":
            return complex(*value[tag])
        if tag == "$int":
            return int(value[tag])
        if tag == "$float":
            return float(value[tag])
        if tag == "$ellipsis":
            return Ellipsis
        if tag == "$ref":
            try:
                return self.connection.exports[value[tag]]
            except KeyError:
                raise ProtocolError(f"no object {value[tag]!r} was handed out") from None
        if tag == "$handle":
            kind = RemoteCallable if value["callable"] else RemoteObject
            return kind(self.connection, int(value[tag]), [str(t) for t in value["types"]])
        raise ProtocolError(f"unknown tag {tag!r}")


class _Constant:
    """A ``defaultdict`` factory that returns a copy of what came across for a missing key."""

    def __init__(self, value):
        self.value = value

    def __call__(self):
        import copy
        return copy.deepcopy(self.value)


def _describe(error, with_traceback):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != _THIS_FILE]
    return {"type": type(error).__name__, "module": type(error).__module__,
            "message": str(error)[:2000],
            "where": "".join(traceback.format_list(frames[-4:]))[-3000:] if with_traceback else ""}


def _rebuild(description):
    name, message = str(description.get("type")), str(description.get("message", ""))
    where = str(description.get("where", "")).strip()
    if where:
        message = f"{message}\n  (raised at:\n{where})"
    if description.get("module") == "builtins" and name in PORTABLE_EXCEPTIONS:
        return getattr(builtins, name)(message)
    return RemoteError(f"{name}: {message}")


def _call(target, args=(), kwargs=None):
    return target(*args, **(kwargs or {}))


def _next(target):
    return next(target)


def _setitem(target, key, value):
    target[key] = value


_OPERATIONS = {
    "call": _call,
    "getattr": getattr,
    "getitem": lambda target, key: target[key],
    "setitem": _setitem,
    "delitem": lambda target, key: target.__delitem__(key),
    "contains": lambda target, item: item in target,
    "len": len,
    "iter": iter,
    "next": _next,
    "repr": repr,
    "str": str,
    "bool": bool,
}


# What student code may do with the checks' objects it was handed (a reference function, a
# dataset): use them as functions and containers, never read their attributes, which lead
# to code (``__globals__``, ``__code__``) and to everything else in the checker.
_TRUSTED_SIDE_OPERATIONS = {"call", "getitem", "len", "iter", "next", "contains", "bool"}


class RemoteObject:
    """An object that lives on the other side; every use of it is a request there."""

    __slots__ = ("_connection", "_id", "_types")

    def __init__(self, connection, object_id, type_names):
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_id", object_id)
        object.__setattr__(self, "_types", type_names)

    def _request(self, op, *payload):
        return self._connection.request(op, self._id, *payload)[0]

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._request("getattr", name)

    def __getitem__(self, key):
        return self._request("getitem", key)

    def __setitem__(self, key, value):
        self._request("setitem", key, value)

    def __delitem__(self, key):
        self._request("delitem", key)

    def __contains__(self, item):
        return self._request("contains", item)

    def __len__(self):
        return self._request("len")

    def __iter__(self):
        return self._request("iter")

    def __next__(self):
        return self._request("next")

    def __bool__(self):
        return self._request("bool")

    def __repr__(self):
        return self._request("repr")

    def __str__(self):
        return self._request("str")

    @property  # type: ignore[misc]  # isinstance() reads it; nothing may set it
    def __class__(self):
        """The torch module class the object is (so that ``isinstance(handle, torch.nn.LSTM)``
        holds), else ``RemoteObject``: handles never pass for data, which crosses by value."""
        for name in self._types:
            found = _torch_module_class(name)
            if found is not None:
                return found
        return type(self)


def _torch_module_class(name):
    """The ``torch.nn.Module`` subclass called ``name`` (``module.Class``) in a torch module
    that is already imported, or None; nothing is imported or looked up beyond that."""
    module_name, _, class_name = str(name).rpartition(".")
    torch = sys.modules.get("torch")
    module = sys.modules.get(module_name)
    if torch is None or module is None or module_name.split(".")[0] != "torch" or "__" in name:
        return None
    found = vars(module).get(class_name)
    if isinstance(found, type) and issubclass(found, torch.nn.Module):
        return found
    return None


class RemoteCallable(RemoteObject):
    """A function or class that lives on the other side.

    A call hands the other side copies: what it does to them never reaches this side's
    objects.  From the trusted side, ``arguments_after_call`` holds the copies as the last
    call left them (positional, keyword), for the checks that ask whether a function
    modifies its inputs.
    """

    __slots__ = ("arguments_after_call",)

    def __init__(self, connection, object_id, type_names):
        super().__init__(connection, object_id, type_names)
        object.__setattr__(self, "arguments_after_call", None)

    def __call__(self, *args, **kwargs):
        result, echoed = self._connection.request("call", self._id, list(args), kwargs)
        object.__setattr__(self, "arguments_after_call", (tuple(echoed[0]), echoed[1]) if echoed else None)
        return result


# The kernel listens and the checks connect (the kernel's syscall filter refuses every
# connect): a grader refuses a zip whose kernel's end says otherwise.
KERNEL_LISTENS = True


def serve(path, namespace):
    """Worker side: listen at ``path`` (in the kernel's own folder: the kernel connects to
    nothing), let the checks connect, and answer them until they are done.

    ``namespace`` (the notebook's globals) is object 0, what the checks call ``env``.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path)
    listener.listen(1)
    try:
        sock, _ = listener.accept()
    finally:
        listener.close()
        os.unlink(path)
    connection = Connection(sock)
    connection.export(namespace)
    try:
        with garbage_collector_on_new_objects_only():
            connection.serve()
    except PeerGone:
        pass
    finally:
        sock.close()


@contextlib.contextmanager
def garbage_collector_on_new_objects_only():
    """For as long as the context lasts, the garbage collector walks only the objects made
    meanwhile: a training loop's calls across the line make garbage by the thousand, and each
    full collection would walk every object of the modules loaded (torch's are many) again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
