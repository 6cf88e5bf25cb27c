"""Checks of torch character models: their modules, a record of their training, held-out
loss and sampled text.

While grading, a student's model lives in the student's kernel and the checks hold a handle
to it; tensors cross by value.  Everything here works the same on a handle and on the model
itself (in a student's notebook).
"""

import math
from collections import Counter
from typing import NamedTuple

import numpy as np

from .arrays import check_shape
from .failures import CheckFailure

# The mark the grader's line sets on a tensor that was not detached on the student's side
# (``rnnlab_remote.GRAPH_MARK``); in a notebook the tensor itself has a ``grad_fn``.
GRAPH_MARK = "rnnlab_had_graph"


def modules_of(model, kind):
    """The submodules of ``model`` that are instances of ``kind`` (a torch.nn class)."""
    return [module for module in model.modules() if isinstance(module, kind)]


def has_graph(tensor):
    """Whether ``tensor`` still carries the autograd graph that produced it."""
    return getattr(tensor, "grad_fn", None) is not None or getattr(tensor, GRAPH_MARK, False)


def as_tensor(value, what, dims=None):
    """``value`` as a torch tensor, or a ``CheckFailure`` saying what came instead."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailure(f"{what} should be a torch tensor, not {type(value).__name__}.")
    if dims is not None and value.dim() != dims:
        raise CheckFailure(f"{what} should have {dims} dimensions; its shape is {tuple(value.shape)}.")
    return value


def split_forward_output(output, what):
    """``(logits, hidden)`` of what a model's forward returned."""
    if not isinstance(output, tuple) or len(output) != 2:
        raise CheckFailure(f"{what} should return the pair (logits, hidden), not {type(output).__name__}.")
    return output


class ForwardRecorder:
    """Records every forward call of a model: its input indices, the hidden state it was
    given, its logits and the hidden state it returned; ``calls`` is the list of them.

    ``with ForwardRecorder(model) as recorder:`` hooks the model for the length of the block.
    """

    def __init__(self, model):
        self.model = model
        self.calls = []
        self._handle = None

    def __enter__(self):
        self._handle = self.model.register_forward_hook(self._record, with_kwargs=True)
        return self

    def __exit__(self, *exc):
        self._handle.remove()

    def _record(self, module, args, kwargs, output):
        given = list(args) + list(kwargs.values())  # forward(input_seq, hidden), whatever their names
        inputs, hidden = (given + [None, None])[:2]
        logits, returned = output if isinstance(output, tuple) and len(output) == 2 else (output, None)
        self.calls.append({"inputs": inputs, "hidden": hidden, "hidden_had_graph": hidden is not None and has_graph(hidden),
                           "logits": logits, "returned": returned})


class LeftoverGradients:
    """Records, for every backward() through ``model``, the norm of what its parameters'
    ``.grad`` held when that backward began: 0 where the step before was cleared
    (``optimizer.zero_grad()``), the gradients of earlier steps where it was not, since
    backward() adds to ``.grad``.  ``norms`` is the list of them.

    ``with LeftoverGradients(env, model) as leftovers:`` hooks the model's parameters for the
    length of the block.  The hook runs when the first of them receives its gradient, before
    it is added to ``.grad``; the model's outputs are left alone, so that a loop that changes
    them in place (``hidden.detach_()``) runs as it would unhooked.
    """

    def __init__(self, env, model):
        self.torch, self.model = notebook_torch(env), model
        self.norms = []
        self._handle = None

    def __enter__(self):
        self._handle = self.torch.autograd.graph.register_multi_grad_hook(self.model.parameters(), self._record,
                                                                         mode="any")
        return self

    def __exit__(self, *exc):
        self._handle.remove()

    def _record(self, gradient):
        # The total norm of the gradients present; with an infinite limit nothing is scaled.
        self.norms.append(float(self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), math.inf)))


def check_gradients_cleared(what, leftovers):
    """Fail if a backward() of ``leftovers`` (a ``LeftoverGradients``) began with the
    gradients of an earlier step still in ``.grad``."""
    for step, norm in enumerate(leftovers.norms[1:], 2):
        if norm > 0:
            raise CheckFailure(f"{what}: when backward() call {step} began, the parameters' .grad still held "
                               f"the gradients of the steps before (norm {norm:.3g}); backward() adds to .grad, so "
                               "the update used the sum of every step's gradients. Call optimizer.zero_grad() "
                               "before each loss.backward().")


def held_out_loss(model, encoded, streams=10):
    """Mean cross-entropy (nats per character) of ``model`` (a trusted CharRNN) predicting
    each character of ``encoded`` (1-D indices) from the ones before it, read as ``streams``
    parallel rows from a zero state."""
    import torch
    import torch.nn.functional as F

    length = (len(encoded) - 1) // streams
    inputs = encoded[: length * streams].view(streams, length)
    targets = encoded[1 : length * streams + 1].view(streams, length)
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits, _ = model(inputs.to(device), None)
        return float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float().cpu(), targets.reshape(-1)))


def character_distance(text, reference):
    """Total variation distance between the character frequencies of ``text`` and those of
    ``reference``: 0 for the same distribution, 1 for disjoint ones."""
    counts, reference_counts = Counter(text), Counter(reference)
    size, reference_size = max(len(text), 1), max(len(reference), 1)
    return 0.5 * sum(abs(counts[ch] / size - reference_counts[ch] / reference_size)
                     for ch in counts.keys() | reference_counts.keys())


def nats_and_bits(loss):
    """A loss in nats per character, with its value in bits, for a message."""
    return f"{loss:.3f} nats ({loss / math.log(2):.3f} bits) per character"


def notebook_torch(env):
    """The notebook's own ``torch`` module (its seeds and generators are the ones the
    notebook's code uses)."""
    torch = env.get("torch")
    if torch is None:
        raise CheckFailure("the notebook has no `torch`: keep the first cell's `import torch`.")
    return torch


def new_model(env, model_class, what, *args, seed=0, **kwargs):
    """``model_class(*args, **kwargs)`` built after seeding the notebook's torch with ``seed``;
    an error while building it is a ``CheckFailure`` that quotes ``what``."""
    notebook_torch(env).manual_seed(seed)
    try:
        return model_class(*args, **kwargs)
    except Exception as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def run_forward(model, what, *args):
    """``(logits, hidden)`` of ``model(*args)``; errors and other results become a
    ``CheckFailure`` that says where to look."""
    try:
        output = model(*args)
    except Exception as error:
        hint = (" The decoder maps each output of the recurrent layer (H features) to V scores."
                if "shapes cannot be multiplied" in str(error) else "")
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}.{hint}") from None
    return split_forward_output(output, what)


def check_layers(model, what, recurrent, vocab_size, embedding_dim, hidden_size, num_layers):
    """Fail unless ``model`` holds one Embedding(V, E), one ``recurrent`` (nn.RNN or nn.GRU) of
    E -> H with ``num_layers`` layers, one Linear(H, V), and no other recurrent layer."""
    import torch

    embeddings = modules_of(model, torch.nn.Embedding)
    cells = modules_of(model, torch.nn.RNN) + modules_of(model, torch.nn.GRU) + modules_of(model, torch.nn.LSTM)
    linears = modules_of(model, torch.nn.Linear)
    if len(embeddings) != 1 or (embeddings[0].num_embeddings, embeddings[0].embedding_dim) != (vocab_size, embedding_dim):
        raise CheckFailure(f"{what} should hold one nn.Embedding({vocab_size}, {embedding_dim}); found {embeddings}.")
    if len(cells) != 1 or not isinstance(cells[0], recurrent):
        raise CheckFailure(f"{what} should hold one nn.{recurrent.__name__} as its recurrent layer; found {cells}.")
    cell = cells[0]
    if (cell.input_size, cell.hidden_size, cell.num_layers) != (embedding_dim, hidden_size, num_layers):
        raise CheckFailure(f"{what}: the nn.{recurrent.__name__} should have input_size={embedding_dim}, "
                           f"hidden_size={hidden_size}, num_layers={num_layers}; found {cell}.")
    if len(linears) != 1 or (linears[0].in_features, linears[0].out_features) != (hidden_size, vocab_size):
        raise CheckFailure(f"{what} should decode with one nn.Linear({hidden_size}, {vocab_size}); found {linears}.")


def check_forward_shapes(model, what, batch, steps, vocab_size, hidden_size, num_layers):
    """Fail unless ``model(inputs (B, T), None)`` gives logits (B, T, V) and hidden (L, B, H)."""
    import torch

    inputs = torch.randint(0, vocab_size, (batch, steps), generator=torch.Generator().manual_seed(0))
    logits, hidden = run_forward(model, f"{what}(inputs of shape {(batch, steps)}, None)", inputs, None)
    check_shape(f"{what}: the logits for inputs of shape {(batch, steps)}",
                as_tensor(logits, "the logits").detach().numpy(), (batch, steps, vocab_size))
    check_shape(f"{what}: the hidden state it returns", as_tensor(hidden, "the hidden state").detach().numpy(),
                (num_layers, batch, hidden_size))


def chunks_of(make_batches, what, *args):
    """The chunks ``make_batches(*args)`` returns, as pairs of nested lists, checked to be
    pairs of 2-D tensors."""
    try:
        chunks = list(make_batches(*args))
    except Exception as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None
    for k, chunk in enumerate(chunks):
        if not isinstance(chunk, tuple) or len(chunk) != 2:
            raise CheckFailure(f"{what}: chunk {k} should be a pair (inputs, targets), not {type(chunk).__name__}.")
        for name, tensor in zip(("inputs", "targets"), chunk):
            as_tensor(tensor, f"{what}: the {name} of chunk {k}", dims=2)
    return [(inputs.tolist(), targets.tolist()) for inputs, targets in chunks]


def run_training(train, what, *args, **kwargs):
    """The losses ``train(*args, **kwargs)`` returns; an error becomes a ``CheckFailure``, and
    the one autograd raises for a hidden state that was not detached says so."""
    try:
        losses = train(*args, **kwargs)
    except Exception as error:
        # What autograd says when a chunk's backward() reaches into the chunk before: its graph
        # was freed, or (with retain_graph=True) the optimizer has since changed its weights.
        if "backward through the graph a second time" in str(error) or "modified by an inplace operation" in str(error):
            raise CheckFailure(f"{what}: backward() went back into the chunk before ({str(error)[:90]}...): the "
                               "hidden state is not detached between chunks. Write hidden = hidden.detach() "
                               "after each forward call, and no retain_graph.") from None
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None
    steps = kwargs.get("num_steps")
    if isinstance(losses, (list, tuple)) and any(has_graph(loss) for loss in losses):
        raise CheckFailure(f"{what} returned losses that still carry their graph: each one keeps the whole "
                           "computation of its step in memory (at the notebook's budget, gigabytes). Append "
                           "loss.item(), the float.")
    try:
        losses = [float(loss) for loss in losses]
    except (TypeError, ValueError):
        raise CheckFailure(f"{what} should return the list of the losses of every step (floats); got "
                           f"{type(losses).__name__}.") from None
    if steps is not None and len(losses) != steps:
        raise CheckFailure(f"{what} should return {steps} losses, one per step; got {len(losses)}.")
    if not all(map(math.isfinite, losses)):
        raise CheckFailure(f"{what}: the losses are not all finite ({losses[:5]} ...); training diverged.")
    return losses


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

    from .reference import reference_globals

    encoded = torch.randint(0, 12, (200,), generator=torch.Generator().manual_seed(4))
    model = new_model(env, model_class, "CharRNN(12, embedding_dim=16, hidden_size=16)", 12,
                      embedding_dim=16, hidden_size=16, num_layers=1, cell="rnn")
    what = f"train(model, encoded, num_steps={num_steps}, batch_size=4, seq_length=10, lr=0.01, seed=0)"
    with reference_globals("char_rnn_torch", env, ["make_batches"]), ForwardRecorder(model) as recorder:
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


def figure_lines(figure, what):
    """``(axes, lines)`` of the one Axes of a matplotlib Figure, or a ``CheckFailure``."""
    axes = getattr(figure, "axes", None) if not isinstance(figure, (list, tuple, type(None))) else None
    if axes is None or not hasattr(figure, "savefig"):
        raise CheckFailure(f"{what} should return a matplotlib Figure (fig, ax = plt.subplots() ... return fig), "
                           f"not {type(figure).__name__}.")
    if len(axes) != 1:
        raise CheckFailure(f"{what}: the figure should have one Axes; it has {len(axes)}.")
    return axes[0], list(axes[0].get_lines())


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

    from .checkpoints import char_rnn_checkpoint
    from .devices import pick_device
    from .reference import grading_text, reference_solution, trusted

    text = grading_text("sherlock")
    numberings = [sorted(set(text))]
    own = notebook_vocabulary(env, text)
    if own is not None and own != numberings[0]:
        numberings.append(own)
    state, renamed, sizes = char_rnn_checkpoint(file_name, cell, len(numberings[0]), what)
    grading = reference_solution("char_rnn_torch") is not None
    held_out = []
    for chars in numberings:
        index = {ch: i for i, ch in enumerate(chars)}
        held_out.append(torch.tensor([index[ch] for ch in text[HELD_OUT]]))
    best = None
    for nonlinearity in ("tanh", "relu") if cell == "rnn" else ("tanh",):
        arguments = (len(numberings[0]), sizes["embedding_dim"], sizes["hidden_size"], sizes["num_layers"], cell,
                     nonlinearity)
        try:
            model = trusted("char_rnn_torch", env, "CharRNN")(*arguments)
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
    from .text import check_sampled_text, vocabulary_of

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
    from .learning import check_loss_below

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

    from .reference import reference_solution

    submitted = submitted_char_model(env, file_name, cell, what)
    written = reference_solution("char_rnn_torch").sample(submitted.model, submitted.chars, SAMPLE_PRIME, 1000,
                                                          temperature=0.8, generator=torch.Generator().manual_seed(0))
    check_written_text(what, written[len(SAMPLE_PRIME):], submitted.text, min_real_words, min_compression,
                       max_character_distance)
