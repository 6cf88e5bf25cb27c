"""Checks of this lab alone: a record of a CharRNN's training, a model whose output is
fixed, and the checkpoints handed in (their layout, held-out loss and the text they write)."""

import contextlib
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
                                        model_of_the_checks, new_model, notebook_torch, run_training)

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


class Training(NamedTuple):
    """What ``record_training`` saw: the call it made, the text, the model's forward calls, the
    losses ``train`` returned and what ``watch`` gave."""

    what: str
    encoded: object
    calls: list
    losses: list
    watched: object


# The clip of the recorded trainings: the reference's unclipped gradients there have norms
# 0.435-0.519 (20 steps, seed 0), 4.3 times or more above it, so an unclipped step shows.
RECORDED_CLIP = 0.1


def record_training(env, model_class, train, num_steps=20, encoded=None, vocab_size=12, seq_length=10, seed=0,
                    watch=lambda model: contextlib.nullcontext()):
    """A fresh ``model_class`` (``vocab_size`` characters, E = H = 16) trained by ``train`` on
    ``encoded`` (by default 200 random characters) for ``num_steps`` steps of 4 streams x
    ``seq_length`` characters (lr 0.01, clip ``RECORDED_CLIP``, ``seed``), with every forward
    call recorded (``ForwardRecorder``), the reference ``make_batches`` swapped in while
    grading, and ``watch(model)`` (a context manager) around the training.

    Returns a ``Training``; each call also has ``starts`` (where each row of its inputs starts in
    the text) and ``continues`` (whether it goes on from the call before).
    """
    import torch

    if encoded is None:
        encoded = torch.randint(0, 12, (200,), generator=torch.Generator().manual_seed(4))
    model = new_model(env, model_class, f"CharRNN({vocab_size}, embedding_dim=16, hidden_size=16)", vocab_size,
                      embedding_dim=16, hidden_size=16, num_layers=1, cell="rnn")
    what = (f"train(model, encoded, num_steps={num_steps}, batch_size=4, seq_length={seq_length}, lr=0.01, "
            f"seed={seed}, clip={RECORDED_CLIP})")
    with reference_globals(env, ["make_batches"]), ForwardRecorder(model) as recorder, watch(model) as watched:
        losses = run_training(train, what, model, encoded, num_steps=num_steps, batch_size=4,
                              seq_length=seq_length, lr=0.01, seed=seed, device="cpu", clip=RECORDED_CLIP)

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
    return Training(what, encoded, calls, losses, watched)


def how_the_loss_differs(what, step, call, loss, encoded):
    """None when ``loss``, the loss of training step ``step`` (1, 2, ...) whose forward call
    ``record_training`` recorded as ``call``, is the mean cross-entropy of its logits against
    the next characters of ``encoded``; else what it is instead, in words."""
    import torch
    import torch.nn.functional as F

    logits = call["logits"].detach().float()
    vocab_size = logits.shape[-1]
    steps = call["inputs"].shape[1]
    targets = torch.stack([encoded[start + 1: start + 1 + steps] for start in call["starts"]])
    inputs = call["inputs"].long()

    def cross_entropy(scores, wanted, **kwargs):
        return float(F.cross_entropy(scores.reshape(-1, vocab_size), wanted.reshape(-1), **kwargs))

    expected = cross_entropy(logits, targets)
    if abs(loss - expected) <= 1e-4 * max(1.0, abs(expected)):
        return None
    told = (f"{what}: the loss of step {step} is {loss:.6g}, but the mean cross-entropy of the model's logits "
            f"against the next characters is {expected:.6g}")
    candidates = [
        (cross_entropy(F.softmax(logits, dim=-1), targets),
         "it is the cross-entropy of softmax(logits): F.cross_entropy applies log-softmax itself, so hand it "
         "the raw logits"),
        (cross_entropy(logits.transpose(0, 1), targets),
         "it pairs the logits flattened time-major (transposed to (T, B, V)) with the targets flattened "
         "batch-major, so most characters are scored against another stream's target: flatten both alike, "
         "logits.reshape(-1, V) and targets.reshape(-1)"),
        (cross_entropy(logits, inputs),
         "it scores each character against itself: the targets are the inputs shifted one character ahead"),
        (cross_entropy(logits, targets, reduction="sum") / len(call["starts"]),
         "it is the sum over each sequence, averaged over the sequences: take the mean over every character "
         "of the chunk (F.cross_entropy's default)"),
    ]
    for value, why in candidates:
        if abs(loss - value) <= 1e-4 * max(1.0, abs(value)):
            return f"{told}: {why}."
    return (f"{told}. The targets are the inputs shifted one ahead, and the loss is F.cross_entropy(logits.reshape"
            "(-1, V), targets.reshape(-1)): the mean over every character of the chunk.")


# The models a sampler is judged with write over these characters.
SAMPLING_CHARS = list("abcdefg")
# Scores of the constant model: every draw is i.i.d. from softmax(SCORES / temperature).
SCORES = (2.0, 1.0, 0.0, -1.0, 0.5, 1.5, -0.5)
# How far the remembering model prefers its character: the others together get 6 e^-40.
CERTAIN = 40.0


class SamplingModel:
    """A model of the checks' own making (``model_of_the_checks``) over ``SAMPLING_CHARS``, so
    that a sampler is judged whatever the notebook's ``CharRNN`` does:

    - ``"constant"``: its logits are ``SCORES`` whatever it reads;
    - ``"remembering"``: its state remembers whether the last 'a' or 'b' it read was an 'a'
      (+1) or a 'b' (-1), through any other character, for as long as the state is handed
      back; it writes 'c' after an 'a', 'd' after a 'b', and 'e' from a zero state (no 'a' or
      'b' read), each with probability 1 - 6e-18.

    ``model`` is the module to hand the sampler; with ``observe``, ``calls`` records, for every
    call, the characters read, whether the model was in training mode and whether gradients
    were enabled in the notebook's torch.
    """

    def __init__(self, env, kind, observe=False):
        self.kind, self.observe, self.torch = kind, observe, notebook_torch(env)
        self.calls = []
        self.model = model_of_the_checks(env, self.forward)

    def forward(self, input_seq, hidden=None):
        import torch

        inputs = torch.as_tensor(as_tensor(input_seq, "the characters a sampler handed the model", dims=2)).long()
        if self.observe:
            self.calls.append({"read": "".join(SAMPLING_CHARS[int(i)] for i in inputs[0]),
                               "training": bool(self.model.training),
                               "gradients": bool(self.torch.is_grad_enabled())})
        batch, steps = inputs.shape
        vocab_size = len(SAMPLING_CHARS)
        if self.kind == "constant":
            return torch.tensor(SCORES).expand(batch, steps, vocab_size).clone(), torch.zeros(1, batch, 1)
        state = torch.zeros(batch) if hidden is None else torch.as_tensor(hidden).reshape(batch).float().clone()
        logits = torch.zeros(batch, steps, vocab_size)
        for t in range(steps):
            state = torch.where(inputs[:, t] == 0, 1.0, torch.where(inputs[:, t] == 1, -1.0, state))
            logits[:, t, 2] = CERTAIN * (state > 0)
            logits[:, t, 3] = CERTAIN * (state < 0)
            logits[:, t, 4] = CERTAIN * (state == 0)
        return logits, state.reshape(1, batch, 1)


def sampled(sample, what, model, prime, length, temperature, seed, torch):
    """What ``sample(model, SAMPLING_CHARS, prime, length, ...)`` returns with a generator
    seeded with ``seed``, checked to be a str of ``prime`` and ``length`` characters of
    ``SAMPLING_CHARS``."""
    try:
        text = sample(model, SAMPLING_CHARS, prime, length, temperature=temperature,
                      generator=torch.Generator().manual_seed(seed), device="cpu")
    except CheckFailure:
        raise
    except Exception as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None
    if (not isinstance(text, str) or not text.startswith(prime) or len(text) != len(prime) + length
            or set(text) - set(SAMPLING_CHARS)):
        raise CheckFailure(f"{what} should return a str: the prime {prime!r} followed by {length} characters of "
                           f"chars; got {text!r}.")
    return text


def check_sample_remembers(env, sample, prime):
    """Fail unless ``sample`` with the remembering ``SamplingModel`` writes 30 'c's after
    ``prime`` (whose last 'a' or 'b' is an 'a'), what a sampler that reads the whole prime and
    hands the state from one drawn character to the next writes with any generator; and say
    what it did otherwise."""
    torch = notebook_torch(env)
    model = SamplingModel(env, "remembering").model
    what = f"sample(model, chars, {prime!r}, 30, generator=torch.Generator().manual_seed(3))"
    text = sampled(sample, what, model, prime, 30, 1.0, 3, torch)
    drawn = text[len(prime):]
    if drawn == "c" * 30:
        return
    told = (f"{what}, with a model that writes 'c' for as long as its hidden state remembers the last 'a' it "
            f"read (through any other character), wrote {text[:40]!r}")
    if drawn[0] == "c":
        raise CheckFailure(f"{told}: after the first drawn character it sampled from a zero state (the model "
                           "writes 'e' there), as if the model had read nothing. Feed each drawn character back "
                           "with the hidden state the model returned for the one before: logits, hidden = "
                           "model(next_input, hidden).")
    if drawn[0] == "d":
        raise CheckFailure(f"{told}: its first character was drawn after the prime's 'b', not after its last "
                           "character: draw from the logits of the prime's last character (logits[0, -1]).")
    raise CheckFailure(f"{told}: its first drawn character does not follow from the prime: the model had read "
                       "none of the prime's 'a' (it writes 'e' from a zero state), as if it had been handed the "
                       "prime's last character alone, or nothing. Hand the model the whole prime (in one call, "
                       "or one character at a time passing the hidden state on), then draw from the logits of "
                       "its last character.")


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
