"""The platforms a verdict must not depend on, emulated on one machine.

Numerical libraries pick their CPU kernels at start-up, and the kernels of one CPU
generation round differently from another's: OpenBLAS (numpy) has SkylakeX kernels for
AVX-512, Haswell ones for AVX2 and Sandybridge ones for AVX; torch's MKL, ATen and oneDNN
choose likewise.  Each of them can be told to use an older CPU's kernels, so one AVX-512
machine can grade as three generations of graders would.  A profile names the choice of
every library at once; ``environment`` is what a process needs to run under it.
"""

import os
from dataclasses import dataclass

from rnnlab_engine.kernel import THREAD_VARIABLES, THREADS_VARIABLE


@dataclass(frozen=True)
class Profile:
    """One CPU generation: the CPU flag it needs and each library's choice of kernels."""

    name: str
    cpu_flag: str
    variables: dict

    def available(self, cpu_flags=None):
        """Whether this machine can run the profile's kernels (an AVX-512 kernel on an
        older CPU would stop at its first instruction)."""
        return self.cpu_flag in (cpu_flags if cpu_flags is not None else cpu_flags_of_this_machine())


PROFILES = {profile.name: profile for profile in [
    Profile("SkylakeX", "avx512f", {"OPENBLAS_CORETYPE": "SkylakeX", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
                                    "ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}),
    Profile("Haswell", "avx2", {"OPENBLAS_CORETYPE": "Haswell", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                                "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}),
    # MKL has no plain-AVX path any more: SSE4.2 is the oldest it keeps.
    Profile("Sandybridge", "avx", {"OPENBLAS_CORETYPE": "Sandybridge", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                                   "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}),
]}


def cpu_flags_of_this_machine():
    """The CPU flags Linux reports (empty elsewhere: then no profile is run)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def available_profiles():
    """The profiles this machine can run, newest first."""
    return [p for p in PROFILES.values() if p.available()]


def environment(profile, threads=1, device=None, base=None):
    """``base`` (default ``os.environ``) with ``profile``'s kernels chosen, ``threads`` threads
    per numerical library in the grader, its kernels and checkers, and the torch checks on
    ``device`` ("cpu", "cuda") when given."""
    env = dict(os.environ if base is None else base)
    env.update(PROFILES[profile].variables if isinstance(profile, str) else profile.variables)
    env[THREADS_VARIABLE] = str(threads)
    env.update({name: str(threads) for name in THREAD_VARIABLES})  # the grader's own threads
    if device:
        env["RNNLAB_DEVICE"] = device
    return env
