"""What the grader runs, pinned in one place: the packages the autograder zip installs on
Gradescope, and the ``requirements.txt`` of the student zip (the same pins and JupyterLab),
so that a notebook checked at home runs what it will be graded with.

The pins are this environment's versions (the one that builds and tests the lab); torch is
pinned only for a lab whose reference imports it, and is PyPI's CPU build unless the lab is
built for GPU runners (PyPI's default torch for Linux is the CUDA build, several GB).
"""

import re
from importlib.metadata import version

from .labs import SOLUTIONS

CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# The notebook's front end for students (the grader runs none): the release tested with rnnlab.
JUPYTERLAB = "jupyterlab==4.6.6"
USES_TORCH = re.compile(r"^\s*(import|from)\s+torch\b", re.MULTILINE)


def pinned(distribution):
    """``name==version`` of an installed distribution, without a local label (``+cpu``)."""
    return f"{distribution}=={version(distribution).split('+')[0]}"


def uses_torch(lab):
    """Whether the reference of ``lab`` imports torch (then its students and grader need it)."""
    return bool(USES_TORCH.search((SOLUTIONS / f"{lab}.py").read_text()))


def grader_requirements(lab, gpu=False):
    """The lines of the zip's requirements (otter's setup installs otter itself)."""
    torch = uses_torch(lab)
    lines = [f"--extra-index-url {CPU_TORCH_INDEX}"] if torch and not gpu else []
    return lines + [pinned("numpy"), pinned("matplotlib")] + ([pinned("torch")] if torch else [])


def engine_requirements():
    """What the grading engine itself needs beyond otter's environment, in the zip alone: the
    bindings of its isolation layers where namespaces are not allowed (Landlock, seccomp)."""
    return [pinned("landlockpy"), pinned("pyseccomp")]


def student_requirements(lab):
    """The student zip's ``requirements.txt``: what the grader runs, and JupyterLab."""
    gpu_note = [
        "# torch is the CPU build; on a machine with an NVIDIA GPU, delete the --extra-index-url line",
        "# to get PyPI's CUDA build (several GB): the checks give the same verdicts on either.",
    ] if uses_torch(lab) else []
    return "\n".join([f"# What the grader of {lab} runs (install: pip install -r requirements.txt).", *gpu_note,
                      *grader_requirements(lab), pinned("otter-grader").replace("otter-grader", "otter-grader[grading]", 1),
                      JUPYTERLAB, ""])
