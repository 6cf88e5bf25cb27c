"""An independent implementation of the student functions of the lab ``char_rnn_numpy``,
written in a compact, vectorised NumPy style: material for the similarity tests and benchmark."""

import numpy as np

HIDDEN_SIZE = 100
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP_LIMIT = 5.0
PARAM_NAMES = ("U", "W", "V", "b", "c")

from functools import reduce  # noqa: E402
from itertools import islice  # noqa: E402


def build_vocabulary(text):
    """The characters of ``text`` and two maps between them and their indices.

    Returns ``(chars, char_to_ix, ix_to_char)``: ``chars`` is the sorted list of the distinct
    characters, ``char_to_ix`` a dict char -> index into ``chars``, ``ix_to_char`` the
    inverse dict index -> char.
    """
    alphabet = sorted({*text})
    ix_to_char = dict(enumerate(alphabet))
    return alphabet, {v: k for k, v in ix_to_char.items()}, ix_to_char


def one_hot(ix, vocab_size):
    """The one-hot column of index ``ix``: shape (vocab_size, 1), a 1 at row ``ix``."""
    return (np.arange(vocab_size) == ix).astype(np.float64)[:, None]


def init_params(hidden_size, vocab_size, rng):
    """Fresh parameters ``(U, W, V, b, c)`` drawn with the generator ``rng``.

    Each weight matrix is uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], where fan_in is the
    size of the vector it multiplies: V for U (H, V); H for W (H, H) and for V (V, H).
    The biases b (H, 1) and c (V, 1) start at zero.
    """
    H, K = hidden_size, vocab_size
    # (rows, fan_in): the fan-in is the number of columns, the length of what it multiplies
    weights = [rng.uniform(-1.0, 1.0, (rows, fan_in)) / np.sqrt(fan_in) for rows, fan_in in ((H, K), (H, H), (K, H))]
    return (*weights, *(np.zeros((n, 1)) for n in (H, K)))


def softmax(z):
    """Softmax over axis 0 of ``z`` (V, k): every column becomes a distribution.

    Subtract each column's maximum before exponentiating, so that scores of +-1000 give
    finite probabilities instead of overflowing.
    """
    z = np.asarray(z, dtype=np.float64)
    unnormalised = np.exp(z - z.max(axis=0)[None])
    return unnormalised / unnormalised.sum(axis=0)[None]


def _cell(params, ix, h):
    """The hidden state after reading character ``ix`` from ``h``: U x is U's column ``ix``."""
    U, W, _, b, _ = params
    return np.tanh(U[:, [ix]] + W @ h + b)


def _distribution(params, h, temperature=1.0):
    """The distribution over the next character from the state ``h``."""
    _, _, V, _, c = params
    return softmax((V @ h + c) / temperature)


def forward(inputs, hprev, params):
    """Run the RNN over the character indices ``inputs`` from the hidden state ``hprev`` (H, 1).

    Returns dicts keyed by the step t = 0 .. T-1: ``xs[t]`` the one-hot input (V, 1),
    ``hs[t]`` the hidden state (H, 1) and ``ps[t]`` the softmax over the next character
    (V, 1).  ``hs[-1]`` holds a copy of ``hprev``, so that step 0 reads it like any other.
        h_t = tanh(U x_t + W h_{t-1} + b),   p_t = softmax(V h_t + c)
    """
    K = params[0].shape[1]
    hs = {-1: np.array(hprev, dtype=np.float64, copy=True)}
    for t, ix in enumerate(inputs):
        hs[t] = _cell(params, ix, hs[t - 1])
    xs = {t: one_hot(ix, K) for t, ix in enumerate(inputs)}
    ps = {t: _distribution(params, hs[t]) for t in xs}
    return xs, hs, ps


def sequence_loss(ps, targets):
    """The cross-entropy of the predictions ``ps`` against the indices ``targets``, summed
    over the steps (in nats, a float)."""
    steps = np.arange(len(targets))
    picked = np.hstack([ps[t] for t in steps])[np.asarray(targets, dtype=int), steps]
    return -float(np.log(picked).sum())


def _columns(steps, keys):
    """The columns ``steps[k]`` for ``k`` in ``keys``, side by side."""
    return np.hstack([steps[k] for k in keys])


def backward(xs, hs, ps, targets, params):
    """Backpropagation through time: the gradients of ``sequence_loss(ps, targets)`` with
    respect to ``(U, W, V, b, c)``, from what ``forward`` returned.

    Returns ``(dU, dW, dV, db, dc)``, each of its parameter's shape.  No clipping here:
    that is a separate step of training.
    """
    _, W, V, _, _ = params
    T = len(targets)
    X, Hs, Hprev = _columns(xs, range(T)), _columns(hs, range(T)), _columns(hs, range(-1, T - 1))
    # dL/d(scores) of every step at once: p_t minus the one-hot of its target
    dY = _columns(ps, range(T)).copy()
    np.add.at(dY, (np.asarray(targets, dtype=int), np.arange(T)), -1.0)
    # the recurrence is the one part that must walk back through time
    dA = np.zeros_like(Hs)
    carry = np.zeros((W.shape[0], 1))
    for t in range(T - 1, -1, -1):
        dA[:, [t]] = (1.0 - Hs[:, [t]] ** 2) * (V.T @ dY[:, [t]] + carry)
        carry = W.T @ dA[:, [t]]
    dU = np.einsum("ht,vt->hv", dA, X)
    dW = np.einsum("ht,kt->hk", dA, Hprev)
    dV = np.einsum("vt,ht->vh", dY, Hs)
    return dU, dW, dV, dA.sum(axis=1, keepdims=True), dY.sum(axis=1, keepdims=True)


def clip_gradients(grads, limit=CLIP_LIMIT):
    """Every entry of every gradient clipped to [-limit, limit]; returns a new tuple."""
    bounds = (-limit, limit)
    return tuple([np.clip(np.asarray(d, dtype=np.float64), *bounds) for d in grads])


def _adagrad_one(param, grad, cache, lr):
    cache = cache + np.square(grad)
    return param - lr * grad / np.sqrt(cache + 1e-8), cache


def adagrad_update(params, grads, memory, learning_rate):
    """One Adagrad step.  ``memory`` holds the running sum of squared gradients, one array
    per parameter (zeros at the start of training).

        memory += grad**2;   param -= learning_rate * grad / sqrt(memory + 1e-8)

    Returns ``(new_params, new_memory)`` as tuples; pass ``new_memory`` to the next call.
    """
    updated = [_adagrad_one(p, g, m, learning_rate) for p, g, m in zip(params, grads, memory)]
    new_params, new_memory = zip(*updated)
    return tuple(new_params), tuple(new_memory)


def sample(params, h, seed_ix, n, temperature=1.0, rng=None):
    """``n`` character indices drawn from the model, one at a time.

    Starts from the hidden state ``h`` (H, 1) and the input character ``seed_ix``; each
    drawn character is the next input.  The scores are divided by ``temperature`` before
    the softmax (below 1: more conservative, towards the most likely character).  Draws with
    the generator ``rng`` (a fresh one if None) and returns a list of ints.
    """
    generator = rng if rng is not None else np.random.default_rng()
    drawn, ix = [], seed_ix
    for _ in range(n):
        h = _cell(params, ix, h)
        p = _distribution(params, h, temperature)[:, 0]
        ix = int(generator.choice(p.size, p=p))
        drawn.append(ix)
    return drawn


def predict(params, char_to_ix, ix_to_char, prefix, n, temperature=1.0, rng=None):
    """The ``n`` characters the model writes after the text ``prefix`` (a str).

    Feed the prefix one character at a time from a zero hidden state, so the state has read
    all of it; then ``sample`` from its last character.
    """
    *head, last = [char_to_ix[ch] for ch in prefix]
    h0 = np.zeros((params[1].shape[0], 1))
    state = reduce(lambda h, ix: _cell(params, ix, h), head, h0)
    return "".join(map(ix_to_char.__getitem__, sample(params, state, last, n, temperature, rng)))


def _chunks(data, seq_length):
    """Endless (restart, inputs, targets): consecutive chunks, back to the start (restart
    True) at first and whenever the next chunk would reach the end of ``data``."""
    pointer, restart = 0, True
    while True:
        if restart or pointer + seq_length + 1 >= len(data):
            pointer, restart = 0, True
        yield restart, data[pointer:pointer + seq_length], data[pointer + 1:pointer + seq_length + 1]
        pointer, restart = pointer + seq_length, False


def train(text, char_to_ix, hidden_size=HIDDEN_SIZE, seq_length=SEQ_LENGTH, learning_rate=LEARNING_RATE,
          num_iterations=1000, seed=0, print_every=0):
    """Train a fresh model on ``text`` with Adagrad; returns ``(params, smooth_losses)``.

    Walk through the text in chunks of ``seq_length`` characters: the targets are the inputs
    shifted by one character, and the last hidden state of a chunk is the first of the next.
    At the start, and whenever the next chunk would run past the end of the text, go back to
    the start with a zero hidden state.  Each iteration calls your ``forward``,
    ``sequence_loss``, ``backward``, ``clip_gradients`` and ``adagrad_update``, keeping what
    they return.  ``smooth_losses`` has one entry per iteration: the loss smoothed as
    ``smooth = 0.999 * smooth + 0.001 * loss``, starting from the loss of uniform guessing,
    seq_length * ln(V).  The parameters come from one call of
    ``init_params(hidden_size, V, np.random.default_rng(seed))``.
    """
    K = len(char_to_ix)
    data = [*map(char_to_ix.__getitem__, text)]
    params = init_params(hidden_size, K, np.random.default_rng(seed))
    cache = tuple(map(np.zeros_like, params))
    smooth, history = seq_length * np.log(K), []
    h = None
    for it, (restart, inputs, targets) in enumerate(islice(_chunks(data, seq_length), num_iterations)):
        if restart:
            h = np.zeros((hidden_size, 1))
        xs, hs, ps = forward(inputs, h, params)
        grads = clip_gradients(backward(xs, hs, ps, targets, params))
        params, cache = adagrad_update(params, grads, cache, learning_rate)
        smooth = 0.999 * smooth + 0.001 * sequence_loss(ps, targets)
        history.append(smooth)
        h = hs[max(hs)]
        if print_every and not it % print_every:
            print(f"iteration {it}: smooth loss {smooth:.2f}")
    return params, history
