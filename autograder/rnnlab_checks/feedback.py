"""What a student reads when a test case fails: the check's message, or what the student's
code did, never a line of a check's source.

A ``CheckFailure`` is its message.  Any other exception was raised either by the student's
code (a frame of a notebook cell, or an error that crossed from the student's kernel while
grading) or by a check's own code on what the student's code gave it; the message says which
and names the student's functions.  The same words reach a student through ``grader.check``
in the notebook (``use_in_otter``) and through grading (``rnnlab_engine.checker``).
"""

import linecache
import re
import sys
import traceback

from .failures import CheckFailure

# Set on an exception rebuilt from one the student's kernel raised (``rnnlab_engine.remote``).
RAISED_IN_KERNEL = "raised_in_the_student_kernel"
# Where a notebook's code runs: rnnlab's in-process cells, IPython's cells, ipykernel's cells.
_CELL_NAMES = ("<cell ", "<ipython-input-")
_KERNEL_CELL_FOLDER = "/ipykernel_"
# The words of a check that failed on its own lines: a defect of the check, which a test of
# every lab's catalogue asserts never happens.
CHECK_CRASHED = "the check could not use what"


def failure_message(error, test_function=None):
    """The student's message for ``error``, raised while running ``test_function`` (found in
    the traceback when not given)."""
    if isinstance(error, CheckFailure):
        return str(error)
    names = _student_functions(error, test_function)
    frames = traceback.extract_tb(error.__traceback__)
    raised = f"{type(error).__name__}: {str(error).strip()[:2000]}"
    if getattr(error, RAISED_IN_KERNEL, False):
        if type(error).__name__ == "RemoteError":  # a type that could not cross: its name leads the text
            raised = str(error).strip()[:2000]
        called = re.search(r", line \d+, in (\w+)", str(error))  # the kernel's frames, outermost first
        return f"{called.group(1) if called else names} raised {raised}"
    if any(_is_cell(f.filename) for f in frames):
        cells = [f for f in frames if _is_cell(f.filename)]
        function = cells[0].name if cells[0].name != "<module>" else names
        line = (cells[-1].line or linecache.getline(cells[-1].filename, cells[-1].lineno)).strip()
        return (f"{function} raised {raised}\n(in {cells[-1].name}, line {cells[-1].lineno} of its cell"
                f"{': ' + line if line else ''})")
    if isinstance(error, (TypeError, AttributeError)) and "NoneType" in str(error):
        return (f"None came back where the check needs a result: {names} (or a notebook function it uses) "
                f"is not implemented yet, or misses a return statement ({raised}).")
    return (f"{CHECK_CRASHED[0].upper()}{CHECK_CRASHED[1:]} {names} returned ({raised}): compare the types, "
            "shapes and order of what it returns with its docstring.")


def use_in_otter():
    """Make otter's test files (``grader.check`` in a notebook) report failures with
    ``failure_message``; otter would show the check's source line above it.  Only where otter's
    is loaded: the checks themselves never bring otter in."""
    if "otter" not in sys.modules:
        return
    from otter.test_files.exception_test import ExceptionTestFile

    if getattr(ExceptionTestFile._generate_error_message, "__module__", "") != __name__:
        ExceptionTestFile._generate_error_message = _otter_error_message


def _otter_error_message(test_file, error, context=0):
    return failure_message(error)


def _is_cell(filename):
    return filename.startswith(_CELL_NAMES) or _KERNEL_CELL_FOLDER in filename


def _student_functions(error, test_function):
    """The notebook names the test takes (its parameters but ``env``), as words."""
    code = getattr(test_function, "__code__", None)
    if code is None:
        frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
        tests = [f.f_code for f in frames if f.f_code.co_name.startswith("test_")]
        code = tests[0] if tests else None
    names = [n for n in code.co_varnames[:code.co_argcount] if n != "env"] if code else []
    if not names:
        return "your code"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
