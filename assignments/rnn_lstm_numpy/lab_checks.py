"""Checks of this lab alone: the shapes of its parameters and how they are drawn, what a
wrong gradient clipping did, a^n b continuations, and the RNN's training loop judged by what
it hands to the functions it calls (``RnnTrainingRecord``)."""

import inspect
import math
from collections import Counter

import numpy as np

from rnnlab_checks import CheckFailure
from rnnlab_checks.arrays import check_shape, returned, same_array
from rnnlab_checks.sampling import chi_square_interval, normal_bound, pearson_p_value

# Significance of each test of a random draw (the spread of a weight matrix, its mean, the
# frequencies of n): the tests are exact for a correct draw, which fails one with probability
# 1e-6, whichever generator or call drew it.  A function's whole check runs at most 20 such
# tests (init_lstm: 5 matrices x 2 tests x 2 sizes), so a correct draw fails it once in 50,000
# at worst; the fixed seeds of the checks give the reference the p-values noted beside them.
DRAW_SIGNIFICANCE = 1e-6


def rnn_shapes(hidden_size, vocab_size):
    """Shapes of (U, V, W, b_hidden, b_out)."""
    return [(hidden_size, vocab_size), (hidden_size, hidden_size), (vocab_size, hidden_size),
            (hidden_size, 1), (vocab_size, 1)]


def lstm_shapes(hidden_size, vocab_size):
    """Shapes of (W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v)."""
    z = hidden_size + vocab_size
    return [(hidden_size, z)] * 4 + [(vocab_size, hidden_size)] + [(hidden_size, 1)] * 4 + [(vocab_size, 1)]


def how_it_clipped(grads, clipped, max_norm):
    """What a wrong ``clip_gradient_norm`` did to ``grads`` (a list of arrays) to give
    ``clipped``, in words: the factor it scaled them by, or per array, or entry by entry."""
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    clipped = [np.asarray(c, dtype=np.float64) for c in clipped]
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if all(np.allclose(c, np.clip(g, -max_norm, max_norm)) for g, c in zip(grads, clipped)):
        return (f"it cut each entry to +-{max_norm:g} (np.clip), which changes the gradient's direction; "
                f"rescale all of them by max_norm / (their joint norm) instead")
    factors = [float(np.sum(c * g) / np.sum(g * g)) for g, c in zip(grads, clipped)]
    if not all(np.allclose(c, f * g, rtol=1e-4) for g, c, f in zip(grads, clipped, factors)):
        return "what it returned is not the given gradients rescaled"
    if not np.allclose(factors, factors[0], rtol=1e-4):
        if np.allclose(factors, [max_norm / np.linalg.norm(g) for g in grads], rtol=1e-3):
            return ("it scaled each array by max_norm / (its own norm): that clips each array on its own; "
                    "scale all of them by one factor, max_norm / (the norm of all of them together)")
        return f"it scaled the arrays by different factors ({', '.join(f'{f:.4g}' for f in factors)})"
    factor, right = factors[0], max_norm / norm
    for wrong, why in ((max_norm / norm ** 2, "the squared norm (the sum of squares) where the norm is its "
                                               "square root"),
                       (max_norm, "nothing: it multiplied by max_norm"),
                       (norm / max_norm, "the inverse ratio (norm / max_norm)")):
        if np.isclose(factor, wrong, rtol=1e-3):
            return f"it scaled them by {factor:.4g}, expected {right:.4g}: it divided by {why}"
    return f"it scaled them all by {factor:.4g}, expected max_norm / norm = {right:.4g}"


def check_anbn_generation(function, generate, params, word_to_idx, idx_to_word,
                          values_of_n=range(1, 12), allowed_misses=1):
    """After the prompt a^n b, a trained model must emit b^(n-1) EOS.

    ``generate(params, prompt, word_to_idx, idx_to_word)`` returns the generated words.
    At most ``allowed_misses`` values of n may go wrong.
    """
    misses = []
    for n in values_of_n:
        prompt = ["a"] * n + ["b"]
        generated = list(generate(params, prompt, word_to_idx, idx_to_word))
        if generated != ["b"] * (n - 1) + ["EOS"]:
            misses.append((n, generated))
    if len(misses) > allowed_misses:
        n, generated = misses[0]
        shown = " ".join(generated[:15]) + (" ..." if len(generated) > 15 else "")
        raise CheckFailure(f"{function}: the trained model continues a^n b correctly for only "
                           f"{len(values_of_n) - len(misses)} of {len(values_of_n)} values of n "
                           f"({'all' if not allowed_misses else f'at least {len(values_of_n) - allowed_misses}'} "
                           f"needed); for n = {n} it "
                           f"generated '{shown}' instead of {n - 1} b's and EOS.")


def rnn_fan_ins(hidden_size, vocab_size):
    """Fan-in of each weight matrix of ``init_rnn``, with the vector it multiplies."""
    return {"U": (vocab_size, "U multiplies x_t, of vocab_size entries"),
            "V": (hidden_size, "V multiplies h_{t-1}, of hidden_size entries"),
            "W": (hidden_size, "W multiplies h_t, of hidden_size entries")}


def lstm_fan_ins(hidden_size, vocab_size):
    """Fan-in of each weight matrix of ``init_lstm``, with the vector it multiplies."""
    gate = (hidden_size + vocab_size, "it multiplies z = [h_{t-1}; x_t], of hidden_size + vocab_size entries")
    return {"W_f": gate, "W_i": gate, "W_g": gate, "W_o": gate,
            "W_v": (hidden_size, "W_v multiplies h_t, of hidden_size entries")}


def check_normal_weights(what, name, values, fan_in, multiplies):
    """Fail unless the entries of ``values`` pass for independent N(0, 1/fan_in) draws: their
    mean within the two-sided ``DRAW_SIGNIFICANCE`` bound of N(0, 1/(fan_in n)) and their
    standard deviation s within that of the chi-square law of n s^2 fan_in (n - 1 degrees of
    freedom).  Both tests are exact for Gaussian entries, so a correct draw of any size fails
    each with probability ``DRAW_SIGNIFICANCE``; at the sizes checked here they reject a
    standard deviation more than 25% (200 entries: 0.762..1.250 times 1/sqrt(fan_in) pass) to
    7% (2,700 entries: 0.934..1.067) away from 1/sqrt(fan_in)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    wanted = 1.0 / math.sqrt(fan_in)
    mean, spread = float(values.mean()), float(values.std())
    mean_bound = normal_bound(DRAW_SIGNIFICANCE) * wanted / math.sqrt(n)
    lower, upper = (wanted * math.sqrt(q / n) for q in chi_square_interval(n - 1, DRAW_SIGNIFICANCE))
    if abs(mean) <= mean_bound and lower <= spread <= upper:
        return
    ratio = f", {spread / wanted:.2f} times 1/sqrt(fan_in)" if spread > 0 else ""
    raise CheckFailure(
        f"{what}: {name} has mean {mean:.4f} and standard deviation {spread:.4f}{ratio}. N(0, 1/fan_in) with "
        f"{name}'s fan_in = {fan_in} ({multiplies}) has mean 0 and standard deviation 1/sqrt({fan_in}) = "
        f"{wanted:.4f}: a correct draw of its {n} entries has |mean| < {mean_bound:.4f} and a standard deviation "
        f"in {lower:.4f}..{upper:.4f} (all but once in a million). Draw each weight matrix with the standard "
        "deviation 1/sqrt(its own fan_in), the length of the vector it multiplies.")


def check_initialisation(function, init, names, shapes, fan_ins, hidden_size, vocab_size, seed, other_seed=None):
    """``init(hidden_size, vocab_size, seed=seed)`` (``init_rnn`` or ``init_lstm``): the arrays
    ``names`` of ``shapes``, each weight matrix of ``fan_ins`` (name -> (fan_in, what it
    multiplies)) drawn N(0, 1/fan_in); with ``other_seed``, also the same arrays from a second
    call with ``seed`` and other weights with ``other_seed``."""
    call = f"{function}(hidden_size={hidden_size}, vocab_size={vocab_size}, seed={seed})"
    arrays = dict(zip(names, (check_shape(f"{call}: {name}", p, shape) for name, p, shape in
                              zip(names, returned(call, init(hidden_size, vocab_size, seed=seed), names), shapes))))
    for name, (fan_in, multiplies) in fan_ins.items():
        check_normal_weights(call, name, arrays[name], fan_in, multiplies)
    if other_seed is None:
        return
    again = returned(call, init(hidden_size, vocab_size, seed=seed), names)
    for name, array in zip(names, again):
        if not same_array(array, arrays[name], rtol=0, atol=0):
            raise CheckFailure(f"{function}: two calls with seed={seed} gave different {name}; draw every weight "
                               "with one generator seeded with seed, np.random.default_rng(seed), made inside the "
                               "function (not np.random's global one, and not a generator made once outside).")
    other = dict(zip(names, returned(call, init(hidden_size, vocab_size, seed=other_seed), names)))
    for name in fan_ins:
        if same_array(other[name], arrays[name], rtol=0, atol=0):
            raise CheckFailure(f"{function}: seed={seed} and seed={other_seed} gave the same {name}; seed the "
                               "generator with the seed argument, np.random.default_rng(seed).")


def check_constant_biases(what, arrays, constants, why):
    """Fail unless each bias of ``constants`` (name -> value) holds that value everywhere;
    ``arrays``: name -> float64 array, ``why``: the reason given for the values."""
    for name, value in constants.items():
        wrong = np.flatnonzero(arrays[name] != value)
        if wrong.size:
            raise CheckFailure(f"{what}: {name} should start at {value:g} everywhere ({why}); its entry "
                               f"{int(wrong[0])} is {arrays[name].ravel()[wrong[0]]:.4g}.")


def check_uniform_counts(what, name, values, support, hint):
    """Fail when Pearson's chi-square test rejects, at ``DRAW_SIGNIFICANCE``, that ``values``
    (of ``name``) were drawn uniformly from ``support``; ``hint`` says how to draw them."""
    counts = Counter(values)
    outside = sorted(set(counts) - set(support))
    if outside:
        raise CheckFailure(f"{what}: {name} took the values {outside[:5]}, outside {support[0]}..{support[-1]}. "
                           f"{hint}")
    expected = len(values) / len(support)
    p_value = pearson_p_value([counts[v] for v in support], [1 / len(support)] * len(support))
    if p_value < DRAW_SIGNIFICANCE:
        raise CheckFailure(f"{what}: {name} = {support[0]}..{support[-1]} came {[counts[v] for v in support]} "
                           f"times, where a uniform draw gives about {expected:.0f} each (chi-square p = "
                           f"{p_value:.2g} < {DRAW_SIGNIFICANCE:g}). {hint}")


def _copied(value):
    """A float64 copy of an array, or a list of copies of a sequence of arrays; the value itself
    when it is neither (the checks then say it differs)."""
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        try:
            return [np.array(v, dtype=np.float64) for v in value]
        except (TypeError, ValueError):
            return value


def _same_all(a, b):
    """Whether ``a`` and ``b`` hold the same arrays (exactly what one call returned and the
    next was given; 1e-12 for a copy made on the other side of the grader's line)."""
    try:
        return len(a) == len(b) and all(same_array(x, y, rtol=1e-12, atol=1e-15) for x, y in zip(a, b))
    except TypeError:
        return False


def _indices(one_hots):
    """The word indices of a (T, V, 1) one-hot sequence, or None when it is not one."""
    try:
        array = np.asarray(one_hots, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.ndim != 3 or array.shape[2] != 1:
        return None
    return tuple(int(i) for i in np.argmax(array[:, :, 0], axis=1))


# The functions of the other questions that train_rnn calls: those recorded, each with the
# signature its docstring gives (how a call's arguments are read), and those swapped in as
# they are.
RECORDED_PIECES = {
    "forward_pass": inspect.signature(lambda inputs, hidden_state, params: None),
    "backward_pass": inspect.signature(lambda inputs, outputs, hidden_states, targets, params: None),
    "clip_gradient_norm": inspect.signature(lambda grads, max_norm=0.25: None),
    "update_parameters": inspect.signature(lambda params, grads, lr=1e-3: None),
}
PLAIN_PIECES = ("init_rnn", "one_hot_encode", "one_hot_encode_sequence", "cross_entropy")


def _number(value):
    """``value`` as a float, NaN when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class RnnTrainingRecord:
    """The calls one run of ``train_rnn`` made to ``forward_pass``, ``backward_pass``,
    ``clip_gradient_norm`` and ``update_parameters`` (``pieces``: name -> the function that
    stands in, the reference while grading), for ``check`` to replay the loop the lab asks for:
    every training sequence once per epoch in a new random order, each from h = 0, and each
    step passing on what the call before returned."""

    def __init__(self, pieces):
        self.pieces = pieces
        self.forwards = []  # one dict per forward_pass call
        self.steps = []  # one dict per backward_pass call, with the clip and update that followed

    def replacements(self):
        """The notebook globals to swap in while ``train_rnn`` runs."""

        def recorded(name, keep):
            function, signature = self.pieces[name], RECORDED_PIECES[name]

            def wrapper(*args, **kwargs):
                result = function(*args, **kwargs)
                given = signature.bind(*args, **kwargs)
                given.apply_defaults()
                keep({k: _copied(v) for k, v in given.arguments.items()}, result)
                return result

            wrapper.__name__ = name
            return wrapper

        def forward(given, result):
            self.forwards.append({**given, "result": [_copied(r) for r in result]})

        def backward(given, result):
            loss, grads = result
            self.steps.append({**given, "forward": len(self.forwards) - 1, "loss": float(loss),
                               "grads": _copied(grads)})

        def clip(given, result):
            if self.steps:
                self.steps[-1]["clip"] = {**given, "result": _copied(result)}

        def update(given, result):
            if self.steps:
                self.steps[-1]["update"] = {**given, "result": _copied(result)}

        return {name: recorded(name, keep) for name, keep in zip(RECORDED_PIECES, (forward, backward, clip, update))}

    def order(self):
        """The inputs of each step, as tuples of word indices."""
        return [_indices(step["inputs"]) for step in self.steps]

    def initial_params(self):
        """The parameters the first forward_pass got (None without one)."""
        return self.forwards[0]["params"] if self.forwards else None

    def check(self, what, train_set, val_set, word_to_idx, vocab_size, hidden_size, num_epochs, lr, max_norm,
              result):
        """Fail with the first step (and the first thing in it) that breaks the loop, then with
        a loss that is not the mean per-token loss of its epoch; ``result`` is what ``train_rnn``
        returned, ``what`` how it was called."""
        items = [(tuple(word_to_idx[w] for w in inputs), tuple(word_to_idx[w] for w in targets))
                 for inputs, targets in train_set]
        if len(self.steps) != num_epochs * len(items):
            raise CheckFailure(f"{what} made {len(self.steps)} training steps (calls of backward_pass), expected "
                               f"{num_epochs * len(items)}: one per training sequence in each of the {num_epochs} "
                               "epochs.")
        params = self.initial_params()
        for k, step in enumerate(self.steps):
            where = f"{what}, epoch {k // len(items)}, step {k % len(items)}"
            params = self._check_step(where, step, items, hidden_size, lr, max_norm, params)
        self._check_order(what, items, num_epochs)
        self._check_losses(what, result, train_set, val_set, word_to_idx, vocab_size, hidden_size, len(items))
        if not _same_all(result[0], params):
            raise CheckFailure(f"{what} returned parameters that are not the last ones update_parameters returned; "
                               "return the trained parameters.")

    def _check_step(self, where, step, items, hidden_size, lr, max_norm, params):
        """Fail at the first thing ``step`` does wrong; the parameters it leads to."""
        forward = self.forwards[step["forward"]] if step["forward"] >= 0 else None
        if forward is None or not same_array(forward["inputs"], step["inputs"]):
            raise CheckFailure(f"{where}: backward_pass got inputs that forward_pass did not run just before; "
                               "each step runs forward_pass, then backward_pass on the same sequence.")
        sequence = _indices(step["inputs"])
        if sequence not in {inputs for inputs, _ in items}:
            raise CheckFailure(f"{where}: forward_pass got a sequence that is not the inputs of a training item; "
                               "run it on train_set[i][0], one-hot encoded with one_hot_encode_sequence.")
        if (sequence, _indices(step["targets"])) not in items:
            raise CheckFailure(f"{where}: backward_pass got targets that are not those of the sequence it ran on; "
                               "the targets of train_set[i] are train_set[i][1] (the inputs one word ahead), "
                               "one-hot encoded.")
        if not same_array(forward["hidden_state"], np.zeros((hidden_size, 1)), rtol=0, atol=0):
            raise CheckFailure(f"{where}: forward_pass started from a hidden state that is not zeros of shape "
                               f"({hidden_size}, 1); start every training sequence from h = 0, np.zeros((hidden_size, "
                               "1)), not from the state the sequence before ended in.")
        if not _same_all(forward["params"], params):
            raise CheckFailure(f"{where}: forward_pass did not get the parameters that update_parameters returned "
                               "at the step before; keep the updated parameters (params = update_parameters(...)).")
        if not (_same_all(step["params"], forward["params"]) and _same_all(step["outputs"], forward["result"][0])
                and _same_all(step["hidden_states"], forward["result"][1])):
            raise CheckFailure(f"{where}: backward_pass should get the outputs and hidden states that forward_pass "
                               "returned for this sequence, and the same parameters.")
        clip, update = step.get("clip"), step.get("update")
        if clip is None or update is None:
            raise CheckFailure(f"{where}: {'clip_gradient_norm' if clip is None else 'update_parameters'} was not "
                               "called; each step runs forward_pass, backward_pass, clip_gradient_norm and "
                               "update_parameters, in that order.")
        if not _same_all(clip["grads"], step["grads"]):
            raise CheckFailure(f"{where}: clip_gradient_norm did not get the gradients backward_pass returned.")
        if not np.isclose(_number(clip["max_norm"]), max_norm, rtol=1e-12):
            raise CheckFailure(f"{where}: clip_gradient_norm got max_norm={_number(clip['max_norm']):g}, not train_rnn's "
                               f"max_norm={max_norm}; pass it on, clip_gradient_norm(grads, max_norm).")
        if not _same_all(update["grads"], clip["result"]):
            raise CheckFailure(f"{where}: update_parameters did not get the gradients clip_gradient_norm returned; "
                               "update with the clipped gradients.")
        if not _same_all(update["params"], forward["params"]):
            raise CheckFailure(f"{where}: update_parameters did not get the parameters this step ran with.")
        if not np.isclose(_number(update["lr"]), lr, rtol=1e-12):
            raise CheckFailure(f"{where}: update_parameters got lr={_number(update['lr']):g}, not train_rnn's lr={lr}; "
                               "pass it on, update_parameters(params, grads, lr).")
        return update["result"]

    def _check_order(self, what, items, num_epochs):
        size = len(items)
        epochs = [self.order()[e * size:(e + 1) * size] for e in range(num_epochs)]
        in_order = [inputs for inputs, _ in items]
        for e, visited in enumerate(epochs):
            if sorted(visited) != sorted(in_order):
                raise CheckFailure(f"{what}: epoch {e} did not visit every training sequence once; visit them all, "
                                   "each once, in every epoch.")
        if all(visited == in_order for visited in epochs):
            raise CheckFailure(f"{what} visited the training sequences in the order of train_set in every epoch; "
                               "visit them in a random order, a new one each epoch: for i in rng.permutation("
                               "len(train_set)), with rng = np.random.default_rng(seed) made before the epochs.")
        for e in range(1, num_epochs):
            if epochs[e] == epochs[e - 1]:
                raise CheckFailure(f"{what}: epochs {e - 1} and {e} visited the training sequences in the same "
                                   "order; draw a new permutation in every epoch.")

    def _check_losses(self, what, result, train_set, val_set, word_to_idx, vocab_size, hidden_size, size):
        """Each epoch's training loss must be the mean per-token loss of its steps (or of the
        training set after the epoch), its validation loss that of the validation set after the
        epoch; a mean over sequences or over tokens (each sequence weighted by its length)."""
        _, train_losses, val_losses = result
        encode = self.pieces["one_hot_encode_sequence"]

        def means(losses, lengths):
            losses, lengths = np.asarray(losses, dtype=np.float64), np.asarray(lengths, dtype=np.float64)
            return [float(losses.mean()), float(np.sum(losses * lengths) / lengths.sum())]

        def losses_on(pairs, params):
            return sequence_losses(self.pieces, pairs, params, word_to_idx, vocab_size, hidden_size)

        for e in range(len(train_losses)):
            steps = self.steps[e * size:(e + 1) * size]
            after = steps[-1]["update"]["result"]
            lengths = [len(_indices(s["inputs"])) for s in steps]
            running = means([s["loss"] for s in steps], lengths)
            evaluated = means(losses_on(train_set, after), [len(i) for i, _ in train_set])
            given = float(train_losses[e])
            if not any(np.isclose(given, value, rtol=1e-9) for value in running + evaluated):
                extra = (" It is the sum of the epoch's losses: divide by the number of sequences."
                         if np.isclose(given, sum(s["loss"] for s in steps), rtol=1e-9) else "")
                raise CheckFailure(f"{what}: train_losses[{e}] is {given:.6g}, but the mean of the losses of the "
                                   f"epoch's {size} steps is {running[0]:.6g}.{extra} Record the mean per-token loss "
                                   "of each epoch: the mean of backward_pass's losses over the epoch's sequences.")
            validation = means(losses_on(val_set, after), [len(i) for i, _ in val_set])
            given = float(val_losses[e])
            if not any(np.isclose(given, value, rtol=1e-9) for value in validation):
                extra = (" It is their sum: divide by the number of sequences."
                         if np.isclose(given, validation[0] * len(val_set), rtol=1e-9) else "")
                raise CheckFailure(f"{what}: val_losses[{e}] is {given:.6g}, but the mean per-token loss of the "
                                   f"validation sequences after epoch {e}, each run from h = 0, is "
                                   f"{validation[0]:.6g}.{extra} Evaluate the validation set after each epoch's "
                                   "training: forward_pass from a zero state, cross_entropy, averaged.")


def sequence_losses(pieces, pairs, params, word_to_idx, vocab_size, hidden_size):
    """The mean per-token loss of each (inputs, targets) of ``pairs``, run from h = 0 with the
    parameters ``params``, by ``pieces``' (name -> function) forward_pass and cross_entropy."""
    h0 = np.zeros((hidden_size, 1))

    def encode(words):
        return pieces["one_hot_encode_sequence"](words, vocab_size, word_to_idx)

    return [pieces["cross_entropy"](pieces["forward_pass"](encode(inputs), h0, params)[0], encode(targets))
            for inputs, targets in pairs]


def validation_loss(reference, params, val_set, word_to_idx, vocab_size, hidden_size):
    """The loss of trained ``params`` on ``val_set`` as the lab defines it (per-sequence means,
    averaged), measured with the reference's own functions."""
    params = [np.asarray(p, dtype=np.float64) for p in params]
    return float(np.mean(sequence_losses(vars(reference), val_set, params, word_to_idx, vocab_size, hidden_size)))


# What check_training_loop found last while grading: the notebook globals it ran on, and the
# failure (None for a pass).  q7's hidden case repeats its public case's check on the same
# notebook, in the same question, where nothing runs between them: the same replay of the same
# loop.  (In a notebook, where a student edits and checks again, it always runs.)
_last_loop_verdict = {}


def check_training_loop(env, train_rnn):
    """Run ``train_rnn`` on 32 short a^n b^n sequences (hidden_size 8, 3 epochs) with its calls
    to the other questions' functions recorded (the reference's while grading, the notebook's
    own in a notebook), and fail at the first thing the loop does otherwise than its docstring
    says: what it returns, each step, each epoch's order and losses, and its seed (two more
    runs).  Called again on the same ``env`` while grading, it gives the verdict it found the
    first time."""
    from rnnlab_checks.reference import reference_solution

    if reference_solution() is None:
        return _check_training_loop(env, train_rnn)
    if _last_loop_verdict.get("env") is env:
        if _last_loop_verdict["failure"] is not None:
            raise _last_loop_verdict["failure"]
        return
    _last_loop_verdict.clear()
    try:
        _check_training_loop(env, train_rnn)
    except CheckFailure as failure:
        _last_loop_verdict.update(env=env, failure=failure)
        raise
    _last_loop_verdict.update(env=env, failure=None)


def _check_training_loop(env, train_rnn):
    from rnnlab_checks.arrays import is_sequence
    from rnnlab_checks.reference import swapped_globals, trusted

    sequences = [["a"] * n + ["b"] * n + ["EOS"] for n in [1, 2, 3, 4, 5] * 8]
    train_set = [(s[:-1], s[1:]) for s in sequences[:32]]
    val_set = [(s[:-1], s[1:]) for s in sequences[32:]]
    word_to_idx = {"a": 0, "b": 1, "EOS": 2, "UNK": 3}
    pieces = {name: trusted(env, name) for name in (*RECORDED_PIECES, *PLAIN_PIECES)}
    # lr and max_norm differ from every default, so that one not passed on shows, and
    # max_norm = 0.5 clips 87 of the 96 steps (the reference's gradient norms: 0.47-1.49, 0.77
    # at the first step), so that an update with the unclipped gradients shows.
    settings = dict(hidden_size=8, num_epochs=3, lr=0.05, max_norm=0.5)

    def run(seed):
        record = RnnTrainingRecord(pieces)
        with swapped_globals(env, {**{name: pieces[name] for name in PLAIN_PIECES}, **record.replacements()}):
            result = train_rnn(train_set, val_set, word_to_idx, 4, **settings, seed=seed)
        return record, result

    what = "train_rnn(32 training sequences, hidden_size=8, num_epochs=3, lr=0.05, max_norm=0.5, seed=3)"
    record, result = run(3)
    if not is_sequence(result) or len(result) != 3:
        raise CheckFailure("train_rnn should return (params, train_losses, val_losses).")
    params, train_losses, val_losses = result
    if not is_sequence(params) or len(params) != 5:
        raise CheckFailure("train_rnn should return the trained (U, V, W, b_hidden, b_out) first.")
    for name, p, shape in zip(["U", "V", "W", "b_hidden", "b_out"], params, rnn_shapes(8, 4)):
        check_shape(f"{what}: the trained {name}", p, shape)
    if len(train_losses) != 3 or len(val_losses) != 3:
        raise CheckFailure(f"{what} returned {len(train_losses)} training and {len(val_losses)} validation "
                           "losses; expected one per epoch.")
    record.check(what, train_set, val_set, word_to_idx, 4, result=result, **settings)
    check_seeded_runs("train_rnn", record, run(3)[0], run(4)[0], 3, 4)


def check_seeded_runs(what, first, again, other, seed, other_seed):
    """Fail unless two ``RnnTrainingRecord``s of ``train_rnn`` with ``seed`` started from the same
    parameters and visited the sequences in the same order, and one with ``other_seed`` from
    other parameters in another order."""
    if not _same_all(again.initial_params(), first.initial_params()) or again.order() != first.order():
        part = ("started from different parameters" if not _same_all(again.initial_params(), first.initial_params())
                else "visited the training sequences in different orders")
        raise CheckFailure(f"{what}: two calls with seed={seed} {part}; draw the order with one generator made from "
                           "the seed, rng = np.random.default_rng(seed), inside train_rnn (not np.random's global "
                           "one, and not a generator made once outside), and start from init_rnn(hidden_size, "
                           "vocab_size, seed=seed).")
    if _same_all(other.initial_params(), first.initial_params()):
        raise CheckFailure(f"{what}: seed={seed} and seed={other_seed} started from the same parameters; pass the seed "
                           "on, init_rnn(hidden_size, vocab_size, seed=seed).")
    if other.order() == first.order():
        raise CheckFailure(f"{what}: seed={seed} and seed={other_seed} visited the training sequences in the same "
                           "order; draw the order from a generator seeded with seed.")


def check_torch_lstm_decodes_every_step(model_class, vocab_size, hidden_size):
    """Fail unless ``model_class(vocab_size, hidden_size=hidden_size)`` holds an nn.LSTM and an
    nn.Linear of those sizes and its forward returns the decoder's scores of every step,
    ``decoder(lstm(x)[0])``: logits, for nn.CrossEntropyLoss to take the log-softmax of."""
    import torch

    what = f"TorchLSTM({vocab_size}, hidden_size={hidden_size})"
    model = model_class(vocab_size, hidden_size=hidden_size)
    lstms = [m for m in model.modules() if isinstance(m, torch.nn.LSTM)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if len(lstms) != 1 or (lstms[0].input_size, lstms[0].hidden_size) != (vocab_size, hidden_size):
        raise CheckFailure(f"{what} should hold one nn.LSTM(input_size={vocab_size}, hidden_size={hidden_size}); "
                           f"found {lstms}: build it with the hidden_size argument, not HIDDEN_SIZE.")
    if len(linears) != 1 or (linears[0].in_features, linears[0].out_features) != (hidden_size, vocab_size):
        raise CheckFailure(f"{what} should decode with one nn.Linear({hidden_size}, {vocab_size}); found {linears}.")
    x = torch.nn.functional.one_hot(torch.randint(0, vocab_size, (6, 2), generator=torch.Generator().manual_seed(1)),
                                    vocab_size).float()
    with torch.no_grad():
        logits = model(x)
        expected = linears[0](lstms[0](x)[0])
    logits = torch.as_tensor(check_shape(f"{what}(x) for x of shape (6, 2, {vocab_size})", logits.detach().numpy(),
                                         (6, 2, vocab_size)))
    expected = expected.detach().double()
    if torch.allclose(logits, expected, rtol=1e-5, atol=1e-5):
        return
    why = ("they are probabilities (every row sums to 1): return the logits, nn.CrossEntropyLoss applies the "
           "log-softmax itself" if torch.allclose(logits.sum(dim=2), torch.ones(6, 2, dtype=torch.float64), atol=1e-5)
           else "return self.decoder(output), the decoder applied to the LSTM's output at every step")
    raise CheckFailure(f"{what}: forward(x) returned values that are not decoder(lstm(x)[0]) (they differ by up to "
                       f"{float((logits - expected).abs().max()):.4g}): {why}.")


def _torch_parameters(model):
    """A torch model's parameters as float64 arrays, by name."""
    return {name: np.asarray(tensor.detach().cpu().double().numpy()) for name, tensor in model.state_dict().items()}


def _largest_difference(a, b):
    if set(a) != set(b) or any(a[k].shape != b[k].shape for k in a):
        return math.inf
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


# One Adam step from the same model on the same sequence with lr 0.01 and 0.03: Adam's first
# step moves each weight by lr * g / (|g| + 1e-8), so the two models differ by at most
# 0.03 - 0.01 = 0.02, reached wherever |g| >> 1e-8 (float32 rounding of weights under 0.5:
# 6e-8).  Measured: the reference 0.020000003 (1.6e-7 off), AdamW 0.0200281 (its decoupled
# decay, 0.14% off), SGD 0.0052 (74% off: it moves by lr |g|), a forgotten lr or an optimiser
# on another model 0.  1% leaves 60,000 times the reference's error and 7 times AdamW's.
LR_STEP_TOLERANCE = 0.01


def check_torch_training_arguments(train, word_to_idx, vocab_size, trusted_encode):
    """Fail unless ``train`` (``train_torch_lstm``) honours its seed, steps the model it returns
    with Adam at the given lr, returns one loss per epoch and each the mean cross-entropy per
    token of its epoch; on one sequence, a^4 b^4 EOS, with one-step runs and runs at lr = 0."""
    import torch
    import torch.nn.functional as F

    sequence = ["a"] * 4 + ["b"] * 4 + ["EOS"]
    item = (sequence[:-1], sequence[1:])

    def run(train_set, seed, lr, num_epochs=1):
        call = (f"train_torch_lstm({len(train_set)} sequence{'s' if len(train_set) > 1 else ''}, "
                f"num_epochs={num_epochs}, lr={lr}, seed={seed})")
        model, losses = returned(call, train(train_set, word_to_idx, vocab_size, num_epochs=num_epochs, lr=lr,
                                             seed=seed), ["model", "train_losses"])
        losses = np.asarray(losses, dtype=np.float64).ravel()
        if losses.size != num_epochs:
            raise CheckFailure(f"{call} returned {losses.size} losses for num_epochs={num_epochs}; expected one per "
                               "epoch.")
        return call, model, losses

    call, model, _ = run([item], 3, 0.01)
    first = _torch_parameters(model)
    if _largest_difference(_torch_parameters(run([item], 3, 0.01)[1]), first) > 1e-6:
        raise CheckFailure(f"{call}, called twice, gave two different models: seed torch with the seed, "
                           "torch.manual_seed(seed), before building the model.")
    if _largest_difference(_torch_parameters(run([item], 4, 0.01)[1]), first) <= 1e-6:
        raise CheckFailure(f"{call} and the same call with seed=4 gave the same model: seed torch with the seed "
                           "argument, torch.manual_seed(seed), before building the model.")
    step = _largest_difference(_torch_parameters(run([item], 3, 0.03)[1]), first)
    if not abs(step - 0.02) <= LR_STEP_TOLERANCE * 0.02:
        told = (f"{call} and the same call with lr=0.03 (one step each, from the same seed) gave models whose weights "
                f"differ by up to {step:.4g}")
        raise CheckFailure(f"{told}, where one Adam step moves each weight by lr, so 0.03 - 0.01 = 0.02 more: "
                           + ("the optimiser must step this model's parameters with the given lr, "
                              if step < 1e-6 else "use ")
                           + "torch.optim.Adam(model.parameters(), lr=lr).")
    call, model, losses = run([item] * 3, 3, 0.0, num_epochs=2)
    x = torch.tensor(trusted_encode(item[0], vocab_size, word_to_idx), dtype=torch.float32).permute(0, 2, 1)
    y = torch.tensor([word_to_idx[w] for w in item[1]])
    with torch.no_grad():
        expected = float(F.cross_entropy(torch.as_tensor(model(x).detach()).reshape(len(y), vocab_size), y))
    for epoch, loss in enumerate(losses):
        # The same float32 forward on both sides: the reference's losses equal it to the last
        # bit; 1e-5 admits another float32 reduction.  A sum is 3 or 8 times it.
        if abs(loss - expected) <= 1e-5 * expected:
            continue
        told = (f"{call}: with lr=0 the model never changes, so each epoch's loss is the mean cross-entropy per token "
                f"of the one sequence it repeats, {expected:.6g}; yours is {loss:.6g} for epoch {epoch}")
        for factor, why in ((3, "the sum over the epoch's 3 sequences: divide by their number"),
                            (len(y), f"the sum over the sequence's {len(y)} tokens: nn.CrossEntropyLoss() takes "
                                     "their mean")):
            if abs(loss - factor * expected) <= 1e-5 * factor * expected:
                raise CheckFailure(f"{told}, {why}.")
        raise CheckFailure(f"{told}. Return the mean over each epoch's sequences of nn.CrossEntropyLoss() of the "
                           "model's logits against the next words.")
