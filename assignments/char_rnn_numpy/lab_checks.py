"""Checks of this lab alone: the shapes of its parameters, the diagnosis of a loss or a
sampler that is wrong in a known way, and its training loop judged by what it hands to the
functions it calls.

``LoopSpy`` stands in for a lab's ``init_params``, ``forward``, ``sequence_loss``,
``backward``, ``clip_gradients`` and ``adagrad_update`` (the reference ones, recorded), and
``check`` then replays the loop the lab asks for: which chunk each iteration reads, which
state it starts from, and that gradients, clipped gradients, Adagrad memory and parameters
are passed on from one call to the next.
"""

import numpy as np

from rnnlab_checks import CheckFailure
from rnnlab_checks.arrays import same_array


def char_rnn_shapes(hidden_size, vocab_size):
    """Shapes of (U, W, V, b, c) of the char-level RNN."""
    return [(hidden_size, vocab_size), (hidden_size, hidden_size), (vocab_size, hidden_size),
            (hidden_size, 1), (vocab_size, 1)]


# The functions of the other questions that a char-level training loop calls.
TRAINING_PIECES = ("init_params", "forward", "sequence_loss", "backward", "clip_gradients", "adagrad_update",
                   "one_hot", "softmax")


def _same_all(a, b):
    return a is not None and b is not None and len(a) == len(b) and all(same_array(x, y, rtol=1e-12, atol=1e-15) for x, y in zip(a, b))


def check_summed_cross_entropy(what, loss, expected, steps, rtol):
    """Fail unless ``loss`` is ``expected``, the cross-entropy of ``steps`` steps summed in
    nats; the message names a mean, a loss in bits or the wrong sign when it is that."""
    if np.isclose(loss, expected, rtol=rtol):
        return
    known = [(expected / steps, f"the mean over the {steps} steps: return their sum, not the mean"),
             (expected / np.log(2), "in bits (a base-2 log): the loss is in nats, np.log"),
             (expected / steps / np.log(2), f"the mean over the {steps} steps, in bits: sum the steps' -np.log"),
             (-expected, "the negative: the cross-entropy of a step is -log p_t[target_t]")]
    cause = next((f"that is {why}" for value, why in known if np.isclose(loss, value, rtol=1e-6)),
                 "the sum over the steps of -log p_t[target_t], in nats (a sum, not a mean)")
    raise CheckFailure(f"{what} is {loss:.6g}, expected {expected:.6g}: {cause}.")


def greedy_without_feedback(params, h, seed_ix, n):
    """The most likely index at each of ``n`` steps of a sampler that reads ``seed_ix`` at
    every step instead of the character it drew (what such a sampler writes when cold)."""
    U, W, V, b, c = (np.asarray(p, dtype=np.float64) for p in params)
    x = np.zeros((U.shape[1], 1))
    x[seed_ix, 0] = 1.0
    indices = []
    for _ in range(n):
        h = np.tanh(U @ x + W @ h + b)
        indices.append(int(np.argmax(V @ h + c)))
    return indices


class LoopSpy:
    """Recorded calls of one run of a char-level training loop over ``data`` (indices), with
    a vocabulary of ``vocab_size`` characters (``len(char_to_ix)``, which may hold characters
    that ``data`` lacks)."""

    def __init__(self, reference, data, seq_length, learning_rate, vocab_size):
        self.reference, self.data = reference, list(data)
        self.seq_length, self.learning_rate, self.vocab_size = seq_length, learning_rate, vocab_size
        self.initial = None
        self.steps = []  # one dict per forward call

    def replacements(self):
        """The notebook globals to swap in while the loop runs."""
        ref = self.reference

        def init_params(*args, **kwargs):
            self.initial = ref.init_params(*args, **kwargs)
            return self.initial

        def forward(inputs, hprev, params):
            result = ref.forward(inputs, hprev, params)
            self.steps.append({"inputs": [int(i) for i in inputs], "hprev": np.array(hprev, dtype=float),
                               "params": params, "last_state": result[1][len(inputs) - 1]})
            return result

        def sequence_loss(ps, targets):
            loss = ref.sequence_loss(ps, targets)
            self._current().update(loss=loss)
            return loss

        def backward(xs, hs, ps, targets, params):
            grads = ref.backward(xs, hs, ps, targets, params)
            self._current().update(targets=[int(i) for i in targets], grads=grads)
            return grads

        def clip_gradients(grads, *args, **kwargs):
            clipped = ref.clip_gradients(grads, *args, **kwargs)
            self._current().update(clip_input=grads, clipped=clipped)
            return clipped

        def adagrad_update(params, grads, memory, learning_rate):
            result = ref.adagrad_update(params, grads, memory, learning_rate)
            self._current().update(update_params=params, update_grads=grads, memory=memory,
                                   learning_rate=learning_rate, updated=result)
            return result

        return {"init_params": init_params, "forward": forward, "backward": backward,
                "clip_gradients": clip_gradients, "adagrad_update": adagrad_update,
                "sequence_loss": sequence_loss, "one_hot": ref.one_hot, "softmax": ref.softmax}

    def _current(self):
        return self.steps[-1] if self.steps else {}  # a call before any forward is not recorded

    def check(self, function, smooth_losses, hidden_size, seed):
        """Fail with the first iteration (and the first thing in it) that breaks the loop;
        ``smooth_losses`` is what the loop returned, ``hidden_size`` and ``seed`` what it got."""
        if not self.steps:
            raise CheckFailure(f"{function} never called forward.")
        vocab_size = self.vocab_size
        self.check_sizes(function, hidden_size)
        if self.initial is None or not _same_all(self.initial, self.reference.init_params(
                hidden_size, vocab_size, np.random.default_rng(seed))):
            raise CheckFailure(f"{function}: the parameters should come from init_params(hidden_size, "
                               "vocab_size, np.random.default_rng(seed)), called once before the loop.")
        self._check_iterations(function)
        self._check_smoothing(function, smooth_losses, vocab_size)

    def check_sizes(self, function, hidden_size):
        """Fail when the loop asked ``init_params`` for other sizes than ``hidden_size`` and the
        vocabulary's (also after a loop that crashed on them: one-hot indices beyond V)."""
        sizes = np.shape(self.initial[0]) if self.initial is not None else None
        if sizes is not None and sizes != (hidden_size, self.vocab_size):
            raise CheckFailure(
                f"{function}: init_params made U of shape {sizes}; expected (hidden_size, V) = "
                f"({hidden_size}, {self.vocab_size}). V is len(char_to_ix), the whole vocabulary, which may "
                f"hold characters that this text lacks (it has {len(set(self.data))} distinct ones).")

    def _check_iterations(self, function):
        pointer, memory, params = 0, None, self.initial
        for k, step in enumerate(self.steps):
            restart = k == 0 or pointer + self.seq_length + 1 >= len(self.data)
            if restart:
                pointer = 0
            inputs = self.data[pointer:pointer + self.seq_length]
            targets = self.data[pointer + 1:pointer + self.seq_length + 1]
            where = f"{function}, iteration {k}"
            if len(step["inputs"]) != len(inputs):
                raise CheckFailure(
                    f"{where}: forward got {len(step['inputs'])} inputs; a chunk is seq_length = "
                    f"{self.seq_length} characters (use the argument seq_length, not the constant SEQ_LENGTH).")
            if step["inputs"] != inputs:
                raise CheckFailure(
                    f"{where}: forward got the inputs {step['inputs'][:6]}... but the chunk of characters "
                    f"{pointer} .. {pointer + self.seq_length - 1} is {inputs[:6]}...: move the pointer by "
                    "seq_length every iteration, and back to 0 when the next chunk would run past the end.")
            if step.get("targets") != targets:
                raise CheckFailure(f"{where}: backward got the targets {str(step.get('targets'))[:40]}; the "
                                   "targets are the inputs shifted by one character, "
                                   "data[pointer + 1 : pointer + seq_length + 1].")
            expected_state = np.zeros_like(step["hprev"]) if restart else self.steps[k - 1]["last_state"]
            if not same_array(step["hprev"], expected_state, rtol=1e-12, atol=1e-15):
                raise CheckFailure(
                    f"{where}: forward started from the wrong hidden state; "
                    + ("start from zeros at the first iteration and whenever the pointer goes back to the start."
                       if restart else "a chunk starts from the last hidden state of the chunk before it "
                       "(hs[len(inputs) - 1]), so that the model reads the text as one long sequence."))
            if params is not None and not _same_all(step["params"], params):
                raise CheckFailure(f"{where}: forward did not get the parameters that "
                                   + ("init_params returned." if k == 0 else "adagrad_update returned "
                                      "in the iteration before: keep the updated parameters."))
            for name, key in (("clip_gradients", "clip_input"), ("adagrad_update", "updated")):
                if key not in step:
                    raise CheckFailure(f"{where}: {name} was not called; each iteration calls backward, "
                                       "clip_gradients and adagrad_update (your functions of q5-q7).")
            if not _same_all(step["clip_input"], step.get("grads")):
                raise CheckFailure(f"{where}: clip the gradients that backward returned "
                                   "(clip_gradients(grads)) before the update.")
            if not _same_all(step["update_grads"], step["clipped"]):
                raise CheckFailure(f"{where}: adagrad_update must get the clipped gradients, what clip_gradients "
                                   "returned (it returns new arrays; it does not clip the ones it is given).")
            if not _same_all(step["update_params"], step["params"]):
                raise CheckFailure(f"{where}: adagrad_update must get the parameters this iteration used.")
            zeros = [np.zeros_like(np.asarray(p, dtype=float)) for p in step["params"]]
            if not _same_all(step["memory"], zeros if memory is None else memory):
                raise CheckFailure(f"{where}: adagrad_update got a memory that is not " + (
                    "zeros (start with np.zeros_like of each parameter)." if memory is None else
                    "the one it returned in the iteration before: Adagrad's memory sums the squared "
                    "gradients over the whole training" + (
                        "; it got zeros again: make the memory once, before the loop." if _same_all(
                            step["memory"], zeros) else ".")))
            if not np.isclose(float(step["learning_rate"]), self.learning_rate):
                raise CheckFailure(f"{where}: adagrad_update got the learning rate {step['learning_rate']}, "
                                   f"not learning_rate = {self.learning_rate}.")
            params, memory = step["updated"]
            pointer += self.seq_length

    def _check_smoothing(self, function, smooth_losses, vocab_size):
        losses = np.asarray(smooth_losses, dtype=np.float64).ravel()
        if len(losses) != len(self.steps):
            raise CheckFailure(f"{function} ran {len(self.steps)} iterations but returned {len(losses)} "
                               "smooth losses; append one per iteration.")
        smooth = self.seq_length * np.log(vocab_size)
        for k, step in enumerate(self.steps):
            if "loss" not in step:
                raise CheckFailure(f"{function}, iteration {k}: sequence_loss was not called.")
            smooth = 0.999 * smooth + 0.001 * float(step["loss"])
            if not np.isclose(losses[k], smooth, rtol=1e-9):
                raise CheckFailure(
                    f"{function}: smooth_losses[{k}] is {losses[k]:.6g}, expected {smooth:.6g}: start from "
                    "seq_length * ln(V), then smooth = 0.999 * smooth + 0.001 * loss at every iteration, "
                    "and append the smoothed value.")
