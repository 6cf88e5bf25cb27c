"""A student's saved weights: found in the submission, loaded without running anything the
file carries, and fitted to the lab's model layout."""

import io
import os
import re
import stat
from pathlib import Path

from .failures import CheckFailure

# A small char-level model's state dict is a few MB; evaluating a much bigger one would not
# fit Gradescope's half a CPU, and anything near this is a mistake.
MAX_CHECKPOINT_BYTES = 16 * 2**20
# Where the grader tells the checks the submission's files are (a notebook uses its folder).
SUBMISSION_VARIABLE = "RNNLAB_SUBMISSION"
RECURRENT_PARAMETER = re.compile(r"^(.*?)\.?((?:weight|bias)_(?:ih|hh)_l\d+)$")


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


def char_rnn_layout(state, what="the checkpoint"):
    """The state dict of an Embedding -> nn.RNN/nn.GRU -> Linear model, whatever its modules
    are called, renamed to ``embedding.weight``, ``rnn.<parameter>``, ``decoder.weight`` and
    ``decoder.bias``; with the sizes it implies: ``(renamed, sizes)``, sizes a dict of
    ``cell`` ("rnn" or "gru"), ``vocab_size``, ``embedding_dim``, ``hidden_size``, ``num_layers``."""
    recurrent, groups = {}, {}
    for name, tensor in state.items():
        match = RECURRENT_PARAMETER.match(name)
        if match:
            recurrent.setdefault(match.group(1), {})[match.group(2)] = tensor
        else:
            prefix, _, leaf = name.rpartition(".")
            groups.setdefault(prefix, {})[leaf] = tensor
    embeddings = [g for g in groups.values() if set(g) == {"weight"} and g["weight"].dim() == 2]
    decoders = [g for g in groups.values() if set(g) == {"weight", "bias"} and g["weight"].dim() == 2]
    found = f"it holds {', '.join(f'{k} {tuple(v.shape)}' for k, v in list(state.items())[:8])}"
    if len(recurrent) != 1 or len(embeddings) != 1 or len(decoders) != 1 or len(groups) != 2:
        raise CheckFailure(f"{what} should hold the parameters of one nn.Embedding, one nn.RNN or "
                           f"nn.GRU and one nn.Linear, and nothing else; {found}.")
    (rnn,), (embedding,), (decoder,) = recurrent.values(), embeddings, decoders
    vocab_size, embedding_dim = embedding["weight"].shape
    gate_rows, input_size = rnn.get("weight_ih_l0", embedding["weight"]).shape
    hidden_size = decoder["weight"].shape[1]
    gates = gate_rows // max(hidden_size, 1)
    if "weight_ih_l0" not in rnn or gates not in (1, 3) or gate_rows != gates * hidden_size \
            or input_size != embedding_dim or tuple(decoder["weight"].shape) != (vocab_size, hidden_size):
        raise CheckFailure(f"{what}: the sizes of its embedding, recurrent layer and decoder do not "
                           f"chain (Embedding(V, E) -> RNN/GRU(E, H) -> Linear(H, V)); {found}.")
    renamed = {"embedding.weight": embedding["weight"], "decoder.weight": decoder["weight"],
               "decoder.bias": decoder["bias"], **{f"rnn.{k}": v for k, v in rnn.items()}}
    sizes = {"cell": "gru" if gates == 3 else "rnn", "vocab_size": int(vocab_size),
             "embedding_dim": int(embedding_dim), "hidden_size": int(hidden_size),
             "num_layers": len([k for k in rnn if k.startswith("weight_ih_l")])}
    return renamed, sizes


def char_rnn_checkpoint(file_name, cell, vocab_size, what):
    """``(state dict, renamed state dict, sizes)`` of the submitted checkpoint ``file_name``
    (see ``char_rnn_layout``), which must be an Embedding -> ``cell`` ("rnn" or "gru") ->
    Linear model over ``vocab_size`` characters."""
    state = load_weights(submission_file(file_name, what), what)
    renamed, sizes = char_rnn_layout(state, what)
    kinds = {"rnn": "a vanilla nn.RNN (one gate block)", "gru": "an nn.GRU (three gate blocks)"}
    if sizes["cell"] != cell:
        raise CheckFailure(f"{what} holds the weights of {kinds[sizes['cell']]}, where this question asks "
                           f"for {kinds[cell]}: train CharRNN(..., cell={cell!r}) and save that model.")
    if sizes["vocab_size"] != vocab_size:
        raise CheckFailure(f"{what} is for {sizes['vocab_size']} characters; the corpus has {vocab_size}: "
                           "train on data/sherlock.txt, handed out with the notebook (not another edition), "
                           "with the vocabulary of the whole text, read as latin-1.")
    return state, renamed, sizes
