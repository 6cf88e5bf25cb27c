"""Reference solution of the lab ``char_rnn_numpy``.

A character-level vanilla RNN written from scratch in NumPy, after Karpathy's min-char-rnn:
vocabulary and one-hot inputs, the forward pass with a numerically stable softmax, the
summed cross-entropy, backpropagation through time, element-wise clipping, Adagrad,
sampling with a temperature, and the training loop on the Sherlock Holmes stories.

The file is cut into notebook cells at ``# %% [name]`` lines; the narrative in
``assignments/char_rnn_numpy/narrative.md`` places them.  Everything between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` is replaced by ``...`` in the student notebook.

Conventions: V characters, H hidden units.  A sequence is a list of character indices.
Inputs and hidden states are columns: x_t (V, 1), h_t (H, 1).  ``params`` is the tuple
``(U, W, V, b, c)`` with U (H, V), W (H, H), V (V, H), b (H, 1), c (V, 1), and every
function that returns gradients returns them in that order.  The loss of a sequence is the
cross-entropy summed over its steps, in nats.
"""

# %% [setup]
import numpy as np

HIDDEN_SIZE = 100
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP_LIMIT = 5.0
PARAM_NAMES = ("U", "W", "V", "b", "c")


# %% [vocabulary]
def build_vocabulary(text):
    """The characters of ``text`` and two maps between them and their indices.

    Returns ``(chars, char_to_ix, ix_to_char)``: ``chars`` is the sorted list of the distinct
    characters, ``char_to_ix`` a dict char -> index into ``chars``, ``ix_to_char`` the
    inverse dict index -> char.
    """
    # BEGIN SOLUTION
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    return chars, char_to_ix, ix_to_char
    # END SOLUTION


def one_hot(ix, vocab_size):
    """The one-hot column of index ``ix``: shape (vocab_size, 1), a 1 at row ``ix``."""
    # BEGIN SOLUTION
    x = np.zeros((vocab_size, 1))
    x[ix, 0] = 1.0
    return x
    # END SOLUTION


# %% [init_params]
def init_params(hidden_size, vocab_size, rng):
    """Fresh parameters ``(U, W, V, b, c)`` drawn with the generator ``rng``.

    Each weight matrix is uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], where fan_in is the
    size of the vector it multiplies: V for U (H, V); H for W (H, H) and for V (V, H).
    The biases b (H, 1) and c (V, 1) start at zero.
    """
    # BEGIN SOLUTION
    U = rng.uniform(-1.0, 1.0, (hidden_size, vocab_size)) / np.sqrt(vocab_size)
    W = rng.uniform(-1.0, 1.0, (hidden_size, hidden_size)) / np.sqrt(hidden_size)
    V = rng.uniform(-1.0, 1.0, (vocab_size, hidden_size)) / np.sqrt(hidden_size)
    return U, W, V, np.zeros((hidden_size, 1)), np.zeros((vocab_size, 1))
    # END SOLUTION


# %% [softmax]
def softmax(z):
    """Softmax over axis 0 of ``z`` (V, k): every column becomes a distribution.

    Subtract each column's maximum before exponentiating, so that scores of +-1000 give
    finite probabilities instead of overflowing.
    """
    # BEGIN SOLUTION
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)
    # END SOLUTION


# %% [forward]
def forward(inputs, hprev, params):
    """Run the RNN over the character indices ``inputs`` from the hidden state ``hprev`` (H, 1).

    Returns dicts keyed by the step t = 0 .. T-1: ``xs[t]`` the one-hot input (V, 1),
    ``hs[t]`` the hidden state (H, 1) and ``ps[t]`` the softmax over the next character
    (V, 1).  ``hs[-1]`` holds a copy of ``hprev``, so that step 0 reads it like any other.
        h_t = tanh(U x_t + W h_{t-1} + b),   p_t = softmax(V h_t + c)
    """
    # BEGIN SOLUTION
    U, W, V, b, c = params
    xs, hs, ps = {}, {-1: np.copy(hprev)}, {}
    for t, ix in enumerate(inputs):
        xs[t] = one_hot(ix, U.shape[1])
        hs[t] = np.tanh(U @ xs[t] + W @ hs[t - 1] + b)
        ps[t] = softmax(V @ hs[t] + c)
    return xs, hs, ps
    # END SOLUTION


def sequence_loss(ps, targets):
    """The cross-entropy of the predictions ``ps`` against the indices ``targets``, summed
    over the steps (in nats, a float)."""
    # BEGIN SOLUTION
    return float(-sum(np.log(ps[t][ix, 0]) for t, ix in enumerate(targets)))
    # END SOLUTION


# %% [backward]
def backward(xs, hs, ps, targets, params):
    """Backpropagation through time: the gradients of ``sequence_loss(ps, targets)`` with
    respect to ``(U, W, V, b, c)``, from what ``forward`` returned.

    Returns ``(dU, dW, dV, db, dc)``, each of its parameter's shape.  No clipping here:
    that is a separate step of training.
    """
    # BEGIN SOLUTION
    U, W, V, b, c = params
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    dh_next = np.zeros_like(hs[-1])
    for t in reversed(range(len(targets))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1.0  # softmax followed by cross-entropy
        dV += dy @ hs[t].T
        dc += dy
        dh = V.T @ dy + dh_next
        dh_raw = (1.0 - hs[t] ** 2) * dh
        db += dh_raw
        dU += dh_raw @ xs[t].T
        dW += dh_raw @ hs[t - 1].T
        dh_next = W.T @ dh_raw
    return dU, dW, dV, db, dc
    # END SOLUTION


# %% [clip_gradients]
def clip_gradients(grads, limit=CLIP_LIMIT):
    """Every entry of every gradient clipped to [-limit, limit]; returns a new tuple."""
    # BEGIN SOLUTION
    return tuple(np.clip(g, -limit, limit) for g in grads)
    # END SOLUTION


# %% [adagrad]
def adagrad_update(params, grads, memory, learning_rate):
    """One Adagrad step.  ``memory`` holds the running sum of squared gradients, one array
    per parameter (zeros at the start of training).

        memory += grad**2;   param -= learning_rate * grad / sqrt(memory + 1e-8)

    Returns ``(new_params, new_memory)`` as tuples; pass ``new_memory`` to the next call.
    """
    # BEGIN SOLUTION
    memory = tuple(m + g * g for m, g in zip(memory, grads))
    params = tuple(p - learning_rate * g / np.sqrt(m + 1e-8) for p, g, m in zip(params, grads, memory))
    return params, memory
    # END SOLUTION


# %% [sample]
def sample(params, h, seed_ix, n, temperature=1.0, rng=None):
    """``n`` character indices drawn from the model, one at a time.

    Starts from the hidden state ``h`` (H, 1) and the input character ``seed_ix``; each
    drawn character is the next input.  The scores are divided by ``temperature`` before
    the softmax (below 1: more conservative, towards the most likely character).  Draws with
    the generator ``rng`` (a fresh one if None) and returns a list of ints.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng() if rng is None else rng
    U, W, V, b, c = params
    x = one_hot(seed_ix, U.shape[1])
    indices = []
    for _ in range(n):
        h = np.tanh(U @ x + W @ h + b)
        p = softmax((V @ h + c) / temperature)
        ix = int(rng.choice(len(p), p=p.ravel()))
        x = one_hot(ix, U.shape[1])
        indices.append(ix)
    return indices
    # END SOLUTION


# %% [predict]
def predict(params, char_to_ix, ix_to_char, prefix, n, temperature=1.0, rng=None):
    """The ``n`` characters the model writes after the text ``prefix`` (a str).

    Feed the prefix one character at a time from a zero hidden state, so the state has read
    all of it; then ``sample`` from its last character.
    """
    # BEGIN SOLUTION
    U, W, V, b, c = params
    h = np.zeros((W.shape[0], 1))
    for ch in prefix[:-1]:
        x = one_hot(char_to_ix[ch], U.shape[1])
        h = np.tanh(U @ x + W @ h + b)
    indices = sample(params, h, char_to_ix[prefix[-1]], n, temperature, rng)
    return "".join(ix_to_char[ix] for ix in indices)
    # END SOLUTION


# %% [train]
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
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    vocab_size = len(char_to_ix)
    params = init_params(hidden_size, vocab_size, rng)
    memory = tuple(np.zeros_like(p) for p in params)
    data = [char_to_ix[ch] for ch in text]
    smooth_loss = -np.log(1.0 / vocab_size) * seq_length
    smooth_losses = []
    pointer = 0
    for iteration in range(num_iterations):
        if iteration == 0 or pointer + seq_length + 1 >= len(data):
            hprev = np.zeros((hidden_size, 1))
            pointer = 0
        inputs = data[pointer:pointer + seq_length]
        targets = data[pointer + 1:pointer + seq_length + 1]
        xs, hs, ps = forward(inputs, hprev, params)
        loss = sequence_loss(ps, targets)
        grads = clip_gradients(backward(xs, hs, ps, targets, params))
        params, memory = adagrad_update(params, grads, memory, learning_rate)
        hprev = hs[len(inputs) - 1]
        smooth_loss = 0.999 * smooth_loss + 0.001 * loss
        smooth_losses.append(smooth_loss)
        if print_every and iteration % print_every == 0:
            print(f"iteration {iteration}: smooth loss {smooth_loss:.2f}")
        pointer += seq_length
    return params, smooth_losses
    # END SOLUTION
