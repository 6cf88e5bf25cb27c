"""A student's saved weights, loaded without running anything the file carries."""

from pathlib import Path

from .failures import CheckFailure

# A small char-level model's state dict is well under 10 MB; anything near this is a mistake.
MAX_CHECKPOINT_BYTES = 50 * 2**20


def load_weights(path, what="the checkpoint"):
    """The state dict (names -> tensors) saved at ``path``, loaded with ``weights_only``.

    A file that carries code or objects other than tensors (a pickled model, a custom class,
    a crafted pickle) is refused with a ``CheckFailure`` before anything in it runs.
    """
    import torch

    path = Path(path)
    advice = f"save it with torch.save(model.state_dict(), {path.name!r}) and submit it with the notebook"
    if not path.is_file():
        raise CheckFailure(f"{what} ({path.name}) is missing: {advice}.")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckFailure(f"{what} ({path.name}) is {size / 2**20:.0f} MB, over the limit of "
                           f"{MAX_CHECKPOINT_BYTES // 2**20} MB: save only the model's state_dict().")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        raise CheckFailure(f"{what} ({path.name}) was refused: it is not a plain file of tensors "
                           f"({type(error).__name__}: {first_line}); {advice}, not the model object.") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise CheckFailure(f"{what} ({path.name}) should hold a state dict (parameter names -> "
                           f"tensors), not a {type(state).__name__}: {advice}.")
    return state
