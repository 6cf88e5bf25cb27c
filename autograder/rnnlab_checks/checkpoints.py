"""A student's saved weights: found in the submission and loaded without running anything
the file carries."""

import io
import os
import stat
from pathlib import Path

from .failures import CheckFailure

# A small char-level model's state dict is a few MB; evaluating a much bigger one would not
# fit Gradescope's half a CPU, and anything near this is a mistake.
MAX_CHECKPOINT_BYTES = 16 * 2**20
# Where the grader tells the checks the submission's files are (a notebook uses its folder).
SUBMISSION_VARIABLE = "RNNLAB_SUBMISSION"


def submission_file(name, what="the checkpoint"):
    """The path of file ``name`` in the submission's folder (the notebook's folder when a
    student runs the checks); a name that leaves that folder is refused."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise CheckFailure(f"{what} should be named by a plain file name next to the notebook, "
                           f"such as 'char_rnn.pt'; got {name!r}.")
    return Path(os.environ.get(SUBMISSION_VARIABLE) or ".") / name


def load_weights(path, what="the checkpoint"):
    """The state dict (names -> tensors) saved at ``path``, loaded with ``weights_only``.

    A link, a file that is not regular, one over ``MAX_CHECKPOINT_BYTES``, or one that
    carries code or objects other than tensors (a pickled model, a custom class, a crafted
    pickle) is refused with a ``CheckFailure`` before anything in it runs.
    """
    import torch

    path = Path(path)
    advice = f"save it with torch.save(model.state_dict(), {path.name!r}) and submit it with the notebook"
    try:  # opened without following a link, and read from that one descriptor
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CheckFailure(f"{what} ({path.name}) is missing: {advice}.") from None
    except OSError:
        raise CheckFailure(f"{what} ({path.name}) cannot be opened (a link is not accepted): {advice}.") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise CheckFailure(f"{what} ({path.name}) is not a regular file: {advice}.")
        if status.st_size > MAX_CHECKPOINT_BYTES:
            raise CheckFailure(f"{what} ({path.name}) is {status.st_size / 2**20:.0f} MB, over the limit of "
                               f"{MAX_CHECKPOINT_BYTES // 2**20} MB: save only the model's state_dict(), "
                               "of a model of the suggested size.")
        data = file.read(MAX_CHECKPOINT_BYTES + 1)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        raise CheckFailure(f"{what} ({path.name}) was refused: it is not a plain file of tensors "
                           f"({type(error).__name__}: {first_line}); {advice}, not the model object.") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise CheckFailure(f"{what} ({path.name}) should hold a state dict (parameter names -> "
                           f"tensors), not a {type(state).__name__}: {advice}.")
    return state
