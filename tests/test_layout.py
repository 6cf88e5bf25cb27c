"""The layering of the packages, read from their imports: what ships stays self-contained, the
kernel's side never reaches the checker's, and nothing outside a lab's folder names a lab."""

import ast
import sys

import pytest

from rnnlab.authoring.labs import PACKAGES, ROOT, available_labs

# What runs inside the student's kernel: the standard library and numpy only (``remote``
# rebuilds a torch tensor the other side sent, with the torch the notebook loaded).
KERNEL_SIDE = ["autograder/rnnlab_engine/remote.py"]
# What the jail loads before it starts the kernel (a script, in the grader's Python): the
# standard library and the bindings of its layers, nothing of the grader's or the checker's.
JAIL = "autograder/rnnlab_engine/isolation/jail.py"
JAIL_LAYERS = ["landlock", "namespaces", "seccomp", "users"]
BINDINGS = {"landlockpy", "pyseccomp"}
# What ships in the zips may import, besides the standard library and itself: the engine
# also the checks (beside it in the zip's files/), the checks otter where a notebook or the
# checker has loaded it (to word its failures); the engine IPython, which the kernel's ipykernel
# brings and jupyter_client imports when a kernel starts (imported once ahead, guarded).
SHIPPED = {"rnnlab_engine": {"numpy", "torch", "nbformat", "nbclient", "jupyter_client", "jupyter_core", "psutil",
                             "otter", "rnnlab_checks", "IPython", *BINDINGS},
           "rnnlab_checks": {"numpy", "torch", "otter"}}


def imported_modules(path, module_level_only=False):
    """Top-level names of the modules ``path`` imports (relative imports as ``.``)."""
    names = set()
    tree = ast.parse(path.read_text())
    for node in tree.body if module_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else node.module.split(".")[0])
    return names


def python_files(package):
    return sorted((PACKAGES / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(SHIPPED))
def test_a_shipped_package_imports_only_what_its_zip_has(package):
    """Nothing of the tools (``rnnlab``) either: the allowed set leaves it out."""
    allowed = SHIPPED[package] | set(sys.stdlib_module_names) | {".", package}
    found = {f"{path.relative_to(ROOT)}: {name}" for path in python_files(package)
             for name in imported_modules(path) - allowed}
    assert sorted(found) == []


@pytest.mark.parametrize("path", KERNEL_SIDE)
def test_the_kernel_side_uses_the_standard_library_and_numpy_only(path):
    assert imported_modules(ROOT / path, module_level_only=True) - set(sys.stdlib_module_names) - {"numpy"} == set()
    assert imported_modules(ROOT / path) - set(sys.stdlib_module_names) - {"numpy", "torch"} == set()
    assert not {"checker", "grading", "kernel", "gradescope"} & {
        node.module for node in ast.walk(ast.parse((ROOT / path).read_text()))
        if isinstance(node, ast.ImportFrom) and node.level}, "the kernel side imports the checker side"


def test_the_jail_loads_the_standard_library_and_its_layers_only():
    jail = ROOT / JAIL
    tree = ast.parse(jail.read_text())
    layers = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              and node.module == "rnnlab_engine.isolation" for alias in node.names}
    assert layers == set(JAIL_LAYERS)
    for path in [jail, *(jail.with_name(f"{layer}.py") for layer in JAIL_LAYERS)]:
        outside = imported_modules(path, module_level_only=True) - set(sys.stdlib_module_names) - BINDINGS
        assert outside <= {".", "rnnlab_engine"}, (path.name, outside)
        relative = {node.module for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.ImportFrom) and node.level}
        assert relative <= set(JAIL_LAYERS), (path.name, relative)


@pytest.mark.parametrize("package", ["rnnlab", *sorted(SHIPPED)])
def test_no_lab_is_named_outside_its_folder(package):
    named = [f"{path.relative_to(ROOT)}: {lab}" for path in python_files(package)
             for lab in available_labs() if lab in path.read_text()]
    assert named == []


def test_a_labs_tests_name_no_lab():
    for lab in available_labs():
        for path in (ROOT / "assignments" / lab).rglob("*.py"):
            assert not [other for other in available_labs() if other in path.read_text()], path
