"""Checks of torch character models: their modules, a record of their training, held-out
loss and sampled text.

While grading, a student's model lives in the student's kernel and the checks hold a handle
to it; tensors cross by value.  Everything here works the same on a handle and on the model
itself (in a student's notebook).
"""

import math
from collections import Counter


from .arrays import check_shape, require_implemented
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
    require_implemented(f"{what}: forward", output)
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


class OptimizerSteps:
    """Records every ``optimizer.step()`` the notebook's torch makes, as the step sees it: the
    optimizer's kind (``Adam``, ...), the learning rate it was built with, how many steps it
    had already taken (the largest ``step`` in its state: 0 for a fresh one, or one whose kind
    keeps no count) and the total norm of ``model``'s gradients at that moment (after any
    clipping).  ``steps`` is the list of them, as dicts.

    ``with OptimizerSteps(env, model) as steps:`` hooks every optimizer (torch's global step
    pre-hook) for the length of the block; one built inside the student's loop is seen too.
    """

    def __init__(self, env, model):
        self.torch, self.model = notebook_torch(env), model
        self.steps = []
        self._handle = None

    def __enter__(self):
        optimizers = kernel_module(self.torch, "torch.optim.optimizer")
        self._handle = optimizers.register_optimizer_step_pre_hook(self._record)
        return self

    def __exit__(self, *exc):
        self._handle.remove()

    def _record(self, optimizer, args, kwargs):
        counts = [value.get("step", 0) for value in dict(optimizer.state).values() if isinstance(value, dict)]
        self.steps.append({
            "kind": repr(optimizer).split(" ", 1)[0],
            "lr": dict(optimizer.defaults).get("lr"),
            "steps_before": max((int(float(count)) for count in counts), default=0),
            "gradient_norm": float(self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), math.inf)),
        })


def check_optimizer_steps(what, steps, num_steps, kind, lr, clip, pass_starts=()):
    """Fail unless the ``OptimizerSteps`` record ``steps`` of a training of ``num_steps`` steps
    shows one optimizer of ``kind`` built with ``lr``, stepped once per step and carrying its
    state from the first step to the last, with gradients of norm at most ``clip`` at every
    step.  ``pass_starts``: the steps (1, 2, ...) that begin a pass over the text, to say
    where a new optimizer was built."""
    if len(steps) != num_steps:
        raise CheckFailure(f"{what}: optimizer.step() was called {len(steps)} times in {num_steps} steps; build one "
                           f"torch.optim.{kind} over model.parameters() before the loop, and call its step() once "
                           "per chunk, after loss.backward().")
    for step, seen in enumerate(steps, 1):
        if seen["kind"] != kind:
            raise CheckFailure(f"{what}: step {step} was taken by {seen['kind']}; the docstring asks for "
                               f"torch.optim.{kind}.")
        if seen["lr"] is None or abs(float(seen["lr"]) - lr) > 1e-12 * lr:
            raise CheckFailure(f"{what}: the optimizer was built with lr={seen['lr']}, not the lr={lr} given to "
                               f"train: pass lr on, torch.optim.{kind}(model.parameters(), lr=lr).")
    restarts = [step for step in range(2, len(steps) + 1)
                if steps[step - 1]["steps_before"] != steps[step - 2]["steps_before"] + 1]
    if restarts:
        where = ("at the start of every pass over the text" if set(restarts) <= set(pass_starts)
                 else "at every step" if len(restarts) == num_steps - 1 else f"before steps {restarts[:5]}")
        raise CheckFailure(f"{what}: the optimizer that took step {restarts[0]} had taken "
                           f"{steps[restarts[0] - 1]['steps_before']} steps before it, not {restarts[0] - 1}: a new "
                           f"{kind} was built {where}, so its running averages of the gradients (its state) "
                           "started again. Build the optimizer once, before the loop over the steps.")
    for step, seen in enumerate(steps, 1):
        if seen["gradient_norm"] > clip * (1 + 1e-3):
            raise CheckFailure(f"{what}: the gradients that optimizer.step() used at step {step} have norm "
                               f"{seen['gradient_norm']:.4g}, above clip={clip}: clip them between loss.backward() "
                               "and optimizer.step(), with nn.utils.clip_grad_norm_(model.parameters(), clip) (the "
                               "norm of all of them together, to the clip given).")


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


def kernel_module(torch, name):
    """The module ``name`` as imported by the notebook's ``torch`` (while grading, a handle to
    it in the student's kernel): what the checks reach there beyond torch's own names."""
    return torch.importlib.import_module(name)


def model_of_the_checks(env, forward):
    """A ``torch.nn.Module`` of the notebook's torch whose ``forward(inputs, hidden)`` is
    ``forward``, a function of the checks: a model whose behaviour the checks fix, for judging
    a function that takes a model (a sampler) apart from the notebook's own ``CharRNN``.  It
    has parameters (a 1 x 1 ``Linear``), so that ``model.to(device)`` and
    ``next(model.parameters())`` work; ``model.training`` is what ``train()``/``eval()`` set."""
    torch = notebook_torch(env)
    model = torch.nn.Module()
    model.add_module("weights", torch.nn.Linear(1, 1))
    kernel_module(torch, "builtins").setattr(model, "forward", forward)
    return model


def notebook_torch(env):
    """The notebook's own ``torch`` module (its seeds and generators are the ones the
    notebook's code uses)."""
    torch = env.get("torch")
    if torch is None:
        raise CheckFailure("the notebook has no `torch`: keep the first cell's `import torch`.")
    return torch


def new_model(env, model_class, what, vocab_size, *args, seed=0, **kwargs):
    """``model_class(vocab_size, *args, **kwargs)`` built after seeding the notebook's torch
    with ``seed``, and tried on two sequences of three characters: an error while building or
    running it, or logits that are not (B, T, V), is a ``CheckFailure`` that quotes ``what``.
    (A check of training or sampling needs a model that runs; the model's own question says
    more.)"""
    torch = notebook_torch(env)
    torch.manual_seed(seed)
    try:
        model = model_class(vocab_size, *args, **kwargs)
    except Exception as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None
    training = model.training
    model.eval()  # no dropout: the try draws nothing from torch's generator
    try:
        logits, _ = run_forward(model, what, torch.zeros((2, 3), dtype=torch.long), None)
        if tuple(logits.shape) != (2, 3, vocab_size):
            raise CheckFailure(f"{what}: the logits for inputs of shape (2, 3) have shape {tuple(logits.shape)}, "
                               f"expected (2, 3, {vocab_size}).")
    finally:
        model.train(training)
    return model


def run_forward(model, what, *args):
    """``(logits, hidden)`` of ``model(*args)``; errors and other results become a
    ``CheckFailure`` that says where to look, as do logits that are not one row of scores
    per character read ((B, T, V) for inputs (B, T))."""
    try:
        output = model(*args)
    except Exception as error:
        hint = (" The decoder maps each output of the recurrent layer (H features) to V scores."
                if "shapes cannot be multiplied" in str(error) else "")
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}.{hint}") from None
    logits, hidden = split_forward_output(output, what)
    inputs, shape = args[0], tuple(getattr(logits, "shape", ()))
    if len(shape) != 3 or shape[:2] != tuple(inputs.shape):
        raise CheckFailure(f"{what}: the logits for inputs of shape {tuple(inputs.shape)} have shape "
                           f"{shape}, expected (B, T, V): one row of V scores for every character read, in "
                           "order (decode every step of the recurrent layer's output, not only the last).")
    return logits, hidden


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
        chunks = make_batches(*args)
        require_implemented(what, chunks)
        chunks = list(chunks)
    except CheckFailure:
        raise
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


def figure_lines(figure, what):
    """``(axes, lines)`` of the one Axes of a matplotlib Figure, or a ``CheckFailure``."""
    axes = getattr(figure, "axes", None) if not isinstance(figure, (list, tuple, type(None))) else None
    if axes is None or not hasattr(figure, "savefig"):
        raise CheckFailure(f"{what} should return a matplotlib Figure (fig, ax = plt.subplots() ... return fig), "
                           f"not {type(figure).__name__}.")
    if len(axes) != 1:
        raise CheckFailure(f"{what}: the figure should have one Axes; it has {len(axes)}.")
    return axes[0], list(axes[0].get_lines())
