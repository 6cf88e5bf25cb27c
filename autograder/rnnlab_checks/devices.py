"""Which device a lab's torch code runs on."""

import os

DEVICE_VARIABLE = "RNNLAB_DEVICE"


def pick_device():
    """``torch.device`` named by ``$RNNLAB_DEVICE`` ("cpu", "cuda", "cuda:1"), else CUDA when
    there is one, else the CPU.  A forced CUDA device that is not there is an error that says so."""
    import torch

    wanted = os.environ.get(DEVICE_VARIABLE, "").strip()
    if not wanted:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(wanted)
    except RuntimeError:
        raise ValueError(f"{DEVICE_VARIABLE}={wanted!r} is not a device; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{DEVICE_VARIABLE}={wanted!r}, but torch sees no CUDA device here")
    return device
