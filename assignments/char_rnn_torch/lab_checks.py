"""Checks of this lab alone: a record of a CharRNN's training, a model whose output is
fixed, and the checkpoints handed in (their layout, held-out loss and the text they write)."""

import re
from typing import NamedTuple

import numpy as np

from rnnlab_checks import CheckFailure
from rnnlab_checks.checkpoints import load_weights, submission_file
from rnnlab_checks.devices import pick_device
from rnnlab_checks.learning import check_loss_below
from rnnlab_checks.text import check_sampled_text, vocabulary_of
from rnnlab_checks.reference import grading_text, reference_globals, reference_solution, trusted
from rnnlab_checks.torch_models import (ForwardRecorder, as_tensor, character_distance, held_out_loss,
                                        new_model, run_training)

RECURRENT_PARAMETER = re.compile(r"^(.*?)\.?((?:weight|bias)_(?:ih|hh)_l\d+)$")


def start_of(encoded, row):
    """Where the sequence ``row`` (a list of indices) starts in ``encoded`` (1-D), or None."""
    text = np.asarray(encoded)
    row = np.asarray(row)
    if len(row) > len(text):
        return None
    windows = np.lib.stride_tricks.sliding_window_view(text, len(row))
    found = np.flatnonzero((windows == row).all(axis=1))
    return int(found[0]) if len(found) else None


def record_training(env, model_class, train, num_steps=20):
    """A fresh ``model_class`` (12 characters, E = H = 16) trained by ``train`` on 200 random
    characters for ``num_steps`` steps of 4 streams x 10 characters, with every forward call
    recorded (``ForwardRecorder``) and the reference ``make_batches`` swapped in while grading.

    Returns ``(what, encoded, calls, losses)``; each call also has ``starts`` (where each row of
    its inputs starts in the text) and ``continues`` (whether it goes on from the call before).
    """
    import torch

    encoded = torch.randint(0, 12, (200,), generator=torch.Generator().manual_seed(4))
    model = new_model(env, model_class, "CharRNN(12, embedding_dim=16, hidden_size=16)", 12,
                      embedding_dim=16, hidden_size=16, num_layers=1, cell="rnn")
    what = f"train(model, encoded, num_steps={num_steps}, batch_size=4, seq_length=10, lr=0.01, seed=0)"
    with reference_globals(env, ["make_batches"]), ForwardRecorder(model) as recorder:
        losses = run_training(train, what, model, encoded, num_steps=num_steps, batch_size=4, seq_length=10,
                              lr=0.01, seed=0, device="cpu")
    calls = recorder.calls
    if len(calls) != num_steps:
        raise CheckFailure(f"{what}: the model was called {len(calls)} times in {num_steps} steps; train should "
                           "call it once per step, on that step's chunk, as model(inputs, hidden) (a call of "
                           "model.forward(...) skips what the checks see).")
    for step, call in enumerate(calls):
        inputs = as_tensor(call["inputs"], f"{what}: the input of the model at step {step + 1}", dims=2)
        call["starts"] = [start_of(encoded, row) for row in inputs.tolist()]
        if None in call["starts"]:
            raise CheckFailure(f"{what}: the inputs of step {step + 1} are not slices of the text; feed the "
                               "model the chunks of make_batches as they come.")
        call["continues"] = step > 0 and call["starts"][0] == calls[step - 1]["starts"][0] + inputs.shape[1]
    return what, encoded, calls, losses


def constant_output_model(env, model_class):
    """A ``model_class`` over 7 characters (E = H = 6) with every weight zero but the decoder's
    bias, set to fixed scores: whatever it reads, its logits are those scores.

    Returns ``(model, chars, scores)``.
    """
    import torch

    scores = torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5, 1.5, -0.5])
    what = "CharRNN(7, embedding_dim=6, hidden_size=6)"
    model = new_model(env, model_class, what, 7, embedding_dim=6, hidden_size=6, num_layers=1, cell="rnn")
    state = model.state_dict()
    biases = [name for name, value in state.items() if tuple(value.shape) == (7,)]
    if len(biases) != 1:
        raise CheckFailure(f"{what} should have one parameter of shape (7,), the decoder's bias; its parameters "
                           f"are {[(name, tuple(value.shape)) for name, value in state.items()]}.")
    model.load_state_dict({name: scores if name == biases[0] else torch.zeros_like(value)
                           for name, value in state.items()})
    return model, list("abcdefg"), scores


# Held-out text: inside the last 10% of the corpus (from character 2,709,950), which the
# notebook never trains on.
HELD_OUT = slice(2_800_000, 2_810_001)
SAMPLE_PRIME = "The "


class SubmittedModel(NamedTuple):
    """A submitted checkpoint in a ``CharRNN``, with the corpus, the numbering of its characters
    the model reads best, and its loss on ``HELD_OUT`` (nats per character) in that numbering."""

    model: object
    text: str
    chars: list
    held_out_loss: float


def notebook_vocabulary(env, text):
    """The characters of ``text`` in the order the notebook's ``build_vocabulary`` numbers them,
    when that is a numbering of them (one index each, ``char_to_idx`` agreeing); else None."""
    try:
        chars, char_to_idx = env["build_vocabulary"](text)
        chars = list(chars)
        if sorted(chars) == sorted(set(text)) and dict(char_to_idx) == {ch: i for i, ch in enumerate(chars)}:
            return chars
    except Exception:  # a broken build_vocabulary is q1's business
        pass
    return None


def submitted_char_model(env, file_name, cell, what):
    """The submitted checkpoint ``file_name`` in a ``CharRNN`` of the sizes its weights have,
    on ``devices.pick_device()``, as a ``SubmittedModel``.  While grading the model is the
    reference ``CharRNN``, so that no student code runs while it is measured; in a student's
    notebook, the notebook's own (``env`` is the notebook's globals).

    A model is read the way it was trained: through the lab's (sorted) numbering of the
    characters or the one the notebook's ``build_vocabulary`` gives, and for a vanilla RNN
    with tanh or ReLU; the pairing with the lowest held-out loss is kept, so that an unsorted
    vocabulary costs points on q1 only, and a nonlinearity not passed on on q2 only.
    """
    import torch

    text = grading_text("sherlock")
    numberings = [sorted(set(text))]
    own = notebook_vocabulary(env, text)
    if own is not None and own != numberings[0]:
        numberings.append(own)
    state, renamed, sizes = char_rnn_checkpoint(file_name, cell, len(numberings[0]), what)
    grading = reference_solution() is not None
    held_out = []
    for chars in numberings:
        index = {ch: i for i, ch in enumerate(chars)}
        held_out.append(torch.tensor([index[ch] for ch in text[HELD_OUT]]))
    best = None
    for nonlinearity in ("tanh", "relu") if cell == "rnn" else ("tanh",):
        arguments = (len(numberings[0]), sizes["embedding_dim"], sizes["hidden_size"], sizes["num_layers"], cell,
                     nonlinearity)
        try:
            model = trusted(env, "CharRNN")(*arguments)
            model.load_state_dict(renamed if grading else state)
        except Exception as error:  # a layout the reference has no place for (no biases, say)
            raise CheckFailure(f"{what} does not load into CharRNN{arguments} ({type(error).__name__}: "
                               f"{str(error)[:200]}): save the state_dict() of a CharRNN built with the "
                               "lab's arguments.") from None
        model = model.to(pick_device())
        for chars, encoded in zip(numberings, held_out):
            loss = held_out_loss(model, encoded)
            if best is None or loss < best.held_out_loss:
                best = SubmittedModel(model, text, chars, loss)
    return best


def check_written_text(function, text, corpus, min_real_words, min_compression, max_character_distance):
    """Fail unless ``text`` (sampled) has enough real words of ``corpus``, does not loop, and
    uses characters about as often as ``corpus`` does (total variation distance)."""
    check_sampled_text(function, text, vocabulary_of(corpus), min_real_words, min_compression)
    distance = character_distance(text, corpus)
    if distance > max_character_distance:
        raise CheckFailure(f"{function}: the characters of its text are far from the corpus's frequencies "
                           f"(total variation distance {distance:.2f}, at most {max_character_distance} "
                           f"expected): '{text[:120]}'")


def check_held_out_loss(env, file_name, cell, what, threshold):
    """Fail unless the submitted checkpoint's loss on ``HELD_OUT`` (``submitted_char_model``)
    is below ``threshold`` nats per character (the message gives bits too, beside uniform
    and unigram guessing)."""
    submitted = submitted_char_model(env, file_name, cell, what)
    # Unigram: the character frequencies of the training 90%, scored on the same slice.
    check_loss_below(what, "loss on 10,000 held-out characters", submitted.held_out_loss, threshold,
                     unit="character", uniform=4.625, unigram=3.089)


def check_checkpoint_writes_text(env, file_name, cell, what, min_real_words, min_compression,
                                 max_character_distance):
    """Fail unless 1000 characters the submitted checkpoint writes after ``SAMPLE_PRIME`` (at
    temperature 0.8, seeded, with the reference sampler) pass ``check_written_text``.  For
    grading only."""
    import torch

    submitted = submitted_char_model(env, file_name, cell, what)
    written = reference_solution().sample(submitted.model, submitted.chars, SAMPLE_PRIME, 1000,
                                                          temperature=0.8, generator=torch.Generator().manual_seed(0))
    check_written_text(what, written[len(SAMPLE_PRIME):], submitted.text, min_real_words, min_compression,
                       max_character_distance)


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
