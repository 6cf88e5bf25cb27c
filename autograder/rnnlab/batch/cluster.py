"""Grade a batch on a Dask distributed cluster: one task per submission.

``rnnlab grade LAB SUBMISSIONS --scheduler tcp://HOST:8786`` sends the autograder zip to the
cluster once (the workers fetch it from each other), then each submission's files as a task;
a worker grades with the same engine, limits and isolation as a local batch, and the results
come back to this machine, where they are written as tasks finish.  A worker that dies
mid-task takes nothing with it: the scheduler gives its tasks to another worker (and runs the
zip's task again if it held the only copy), and each result is taken once.  A submission that
has killed ``distributed.scheduler.allowed-failures`` workers (3) gets an error result, as a
local grader's own failure does.

Workers are started with ``dask worker`` from the same rnnlab installation; where a worker
has a GPU it says so with ``--resources GPU=1``, and the submissions of a lab whose checks
pick a device (``rnnlab_checks.devices``) then ask for it.  Each worker's kernels get the
strongest isolation its machine allows (see docs/running-graders.md: root, or user namespaces and a
delegated cgroup); every result records what held.
"""

import atexit
import contextlib
import io
import os
import socket
import tempfile
import threading
from pathlib import Path

from rnnlab_engine import grading
from rnnlab_engine.isolation.probe import IsolationError

from . import batch

# The resource a worker with a GPU advertises (``dask worker --resources GPU=1``).
GPU_RESOURCE = "GPU"
# Seconds to reach the scheduler before giving up.
CONNECT_TIMEOUT = 30


class ClusterError(Exception):
    """The cluster cannot be used; the message says why."""


def grade_on_cluster(address, autograder_zip, digest, autograder, submissions, fingerprints, limits):
    """Yield the result of each of ``submissions`` as its task finishes on the cluster whose
    scheduler is at ``address``.  ``digest``: the zip's SHA-256; ``autograder``: the zip,
    unpacked here (for its questions)."""
    try:
        from distributed import Client, as_completed
    except ModuleNotFoundError:
        raise ClusterError("grading on a cluster needs Dask's distributed package: "
                           "pip install 'rnnlab[cluster]'") from None
    if not submissions:
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"no Dask scheduler answers at {address} ({error})") from None
    try:
        # A task whose result is the zip, not scattered data: a worker that dies holding the
        # only copy takes nothing with it, as the scheduler runs the task again from its spec.
        shipped = client.submit(_the_zip, Path(autograder_zip).read_bytes(), key=f"rnnlab-zip-{digest[:16]}")
        resources = task_resources(autograder, client)
        futures = {client.submit(grade_task, shipped, digest, packed(s.path), s.id, fingerprints[s.id], limits,
                                 key=f"rnnlab-{s.id}-{fingerprints[s.id][:16]}", resources=resources): s
                   for s in submissions}
        for future in as_completed(futures):
            # Released once taken: a result held on a worker that dies later is not graded again.
            submission = futures.pop(future)
            if future.status == "finished":
                result = future.result()
            else:
                failure = future.exception() if future.status == "error" else None
                why = f"{type(failure).__name__}: {failure}" if failure else f"its task was {future.status}"
                result = batch.error_result(autograder, submission, fingerprints[submission.id],
                                            f"the cluster could not grade it ({why})")
            future.release()
            yield result
    finally:
        client.close()


def _the_zip(zip_bytes):
    """The autograder zip, as the result of a task."""
    return zip_bytes


def task_resources(autograder, client):
    """What each task of ``autograder``'s submissions asks of a worker: a GPU where its checks
    pick a device and a worker of ``client``'s cluster advertises one, else nothing."""
    workers = client.scheduler_info().get("workers", {}).values()
    if autograder.picks_a_device and any(w.get("resources", {}).get(GPU_RESOURCE) for w in workers):
        return {GPU_RESOURCE: 1}
    return None


def packed(path):
    """A submission's files as data for a task: ``(name, [(relative path, bytes, link)])``, a
    link as its target (the engine refuses it there as it does here)."""
    path = Path(path)
    if not path.is_dir():
        return path.name, [("", path.read_bytes(), None)]
    entries = []
    for item in sorted(path.rglob("*")):
        relative = str(item.relative_to(path))
        if item.is_symlink():
            entries.append((relative, None, os.readlink(item)))
        elif item.is_file():
            entries.append((relative, item.read_bytes(), None))
    return path.name, entries


def unpacked_submission(package, folder):
    """Write a ``packed`` submission under ``folder``; its path."""
    name, entries = package
    target = Path(folder) / name
    if entries and entries[0][0] == "":
        target.write_bytes(entries[0][1])
        return target
    target.mkdir()
    for relative, data, link in entries:
        place = target / relative
        place.parent.mkdir(parents=True, exist_ok=True)
        if link is not None:
            place.symlink_to(link)
        else:
            place.write_bytes(data)
    return target


def grade_task(zip_bytes, digest, package, submission_id, fingerprint, limits):
    """On a worker: grade one ``packed`` submission; its ``SubmissionResult``."""
    from distributed import get_worker

    autograder = _autograder(digest, zip_bytes)
    worker = get_worker()
    grader = f"{socket.gethostname()} (Dask worker {worker.name}, {worker.address})"
    with tempfile.TemporaryDirectory(prefix="rnnlab-task-") as folder:
        submission = batch.Submission(submission_id, unpacked_submission(package, folder))
        try:
            batch.keep_out_of_reach()  # this worker's own checkout
        except IsolationError as error:
            return batch.error_result(autograder, submission, fingerprint, f"{grader}: {error}")
        return batch.grade_one(autograder, submission, fingerprint, grader=grader, **limits)


_AUTOGRADERS: dict[str, grading.Autograder] = {}
_UNPACKING = threading.Lock()
_KEPT = contextlib.ExitStack()
atexit.register(_KEPT.close)


def _autograder(digest, zip_bytes):
    """The worker's unpacked copy of the zip with hash ``digest``, unpacked once."""
    with _UNPACKING:
        if digest not in _AUTOGRADERS:
            _AUTOGRADERS[digest] = _KEPT.enter_context(grading.unpacked(io.BytesIO(zip_bytes)))
        return _AUTOGRADERS[digest]
