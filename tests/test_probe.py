"""What the probe picks from what a machine allows, and the one line it says where the machine
allows too little (the machines themselves are made and attacked in test_isolation)."""

import os
import tempfile
from pathlib import Path

import pytest

from rnnlab_engine.isolation import probe
from rnnlab_engine.isolation.probe import IsolationError, Sandbox


@pytest.fixture
def machine(monkeypatch):
    """``machine(root, abi, starts)``: a machine where the grader is root or not, Landlock has
    ``abi`` and a kernel starts in the sandboxes ``starts`` accepts."""

    def make(root, abi, starts):
        probe._probe.cache_clear()
        monkeypatch.setattr(os, "geteuid", lambda: 0 if root else 1000)
        monkeypatch.setattr(probe.landlock, "abi", lambda: abi)
        monkeypatch.setattr(probe, "_starts_python", lambda box: "" if starts(box) else "Permission denied")
        return probe._probe()

    yield make
    probe._probe.cache_clear()


def no_namespaces(box):
    return not box.namespaces


def test_the_strongest_layers_the_machine_allows_are_picked(machine):
    assert machine(True, 7, lambda box: True)[0] == Sandbox(("pid", "net"), True, 0, probe.seccomp.available())
    assert machine(False, 7, lambda box: True)[0].namespaces == ("pid", "net", "user")
    in_a_container, _ = machine(True, 7, no_namespaces)
    assert in_a_container.landlock == 7 and in_a_container.separate_user and in_a_container.allow_listed
    assert machine(False, 6, no_namespaces)[0].landlock == 6


def test_student_code_never_runs_as_root(machine):
    found, problem = machine(True, 7, lambda box: False)
    assert found is None and "no user of the kernel's own can start Python" in problem and "chmod 711 /root" in problem


@pytest.mark.parametrize("abi, said", [(0, "neither user namespaces"), (5, "ABI 5) cannot keep it from signalling")])
def test_a_kernel_of_the_graders_own_user_needs_namespaces_or_landlock_scopes(machine, abi, said):
    found, problem = machine(False, abi, no_namespaces)
    assert found is None and said in problem
    with pytest.raises(IsolationError, match="student code would run as you"):
        probe.sandbox()


def test_without_an_allow_list_what_others_may_read_stops_the_grader():
    with tempfile.TemporaryDirectory() as folder:  # in /tmp, which others may search
        refuses_what_others_may_read(Path(folder))


def refuses_what_others_may_read(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o700)
    (hidden / "tests.py").write_text("")
    shown = tmp_path / "shown.zip"
    shown.write_text("")
    shown.chmod(0o644)
    tmp_path.chmod(0o711)
    searchable = tmp_path / "searchable"  # not listable, but a file's name opens it
    searchable.mkdir(mode=0o711)
    (searchable / "solution.py").write_text("")
    (searchable / "solution.py").chmod(0o644)
    own_user_only = Sandbox((), True, 0, True)
    probe.refuse_exposed(own_user_only, {hidden / "tests.py": "the tests"})  # its folder is closed
    with pytest.raises(IsolationError, match=f"could read {shown} \\(the zip\\): make them unreadable"):
        probe.refuse_exposed(own_user_only, {shown: "the zip", hidden: "the tests"})
    with pytest.raises(IsolationError, match=f"could read {searchable} \\(the reference\\)"):
        probe.refuse_exposed(own_user_only, {searchable: "the reference"})
    probe.refuse_exposed(Sandbox((), True, 7, True), {shown: "the zip"})  # Landlock keeps it out


def test_without_a_network_namespace_or_a_syscall_filter_nothing_is_graded(machine, monkeypatch):
    monkeypatch.setattr(probe.seccomp, "available", lambda: False)
    found, problem = machine(True, 7, no_namespaces)
    assert found is None and "nothing keeps student code off the network" in problem
    assert machine(True, 7, lambda box: True)[0] == Sandbox(("pid", "net"), True, 0, False)
