"""Reference solution of the lab ``rnn_lstm_numpy``.

An RNN and an LSTM written in NumPy (forward pass, backpropagation through time, gradient
clipping, SGD), then the same model with ``torch.nn.LSTM``, all on the a^n b^n EOS task.

The file is cut into notebook cells at ``# %% [name]`` lines; the narrative in
``assignments/rnn_lstm_numpy/narrative.md`` places them.  Everything between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` is replaced by ``...`` in the student notebook.

Conventions: a sequence of T tokens over a vocabulary of V words is an array of shape
(T, V, 1) of one-hot column vectors; hidden states are columns of shape (H, 1).  The loss is
the mean cross-entropy per token (in nats), and every gradient is of that same loss.
"""

# %% [setup]
import numpy as np
import torch
import torch.nn as nn
from torch.utils import data

HIDDEN_SIZE = 50


def sigmoid(x):
    """Logistic function, computed without overflow for large |x|. Any shape."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x):
    """Softmax over axis 0 of a column (V, 1), with the max subtracted for stability."""
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


# %% [generate_dataset]
def generate_dataset(num_sequences=256, max_n=11, seed=42):
    """Sequences ``a^n b^n EOS`` with n drawn uniformly from 1..max_n.

    Returns a list of ``num_sequences`` lists of words, e.g. ['a', 'a', 'b', 'b', 'EOS'].
    The same seed gives the same list.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    samples = []
    for n in rng.integers(1, max_n + 1, size=num_sequences):
        samples.append(["a"] * int(n) + ["b"] * int(n) + ["EOS"])
    return samples
    # END SOLUTION


# %% [sequences_to_dicts]
def sequences_to_dicts(sequences):
    """Vocabulary of a list of word sequences.

    Returns ``(word_to_idx, idx_to_word, num_sequences, vocab_size)``.  Words are numbered by
    decreasing frequency (ties by first appearance); the extra word ``'UNK'`` comes last and
    stands for every word not in the data.  ``word_to_idx`` maps unknown words to the index of
    ``'UNK'``: it is a ``collections.defaultdict``.
    """
    # BEGIN SOLUTION
    from collections import Counter, defaultdict

    counts = Counter(word for sequence in sequences for word in sequence)
    words = [word for word, _ in counts.most_common()] + ["UNK"]
    word_to_idx = defaultdict(lambda: len(words) - 1, {w: i for i, w in enumerate(words)})
    idx_to_word = dict(enumerate(words))
    return word_to_idx, idx_to_word, len(sequences), len(words)
    # END SOLUTION


# %% [datasets]
class Dataset(data.Dataset):
    """Pairs ``(inputs, targets)`` of word lists, the targets shifted one step ahead."""

    def __init__(self, inputs, targets):
        self.inputs = inputs
        self.targets = targets

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.inputs[index], self.targets[index]


def create_datasets(sequences, p_train=0.8, p_val=0.1):
    """Split sequences 80/10/10 (in order) into train, validation and test ``Dataset``s.

    Each item is ``(sequence[:-1], sequence[1:])``: the model reads a word and predicts the
    next one.
    """
    # BEGIN SOLUTION
    num_train = int(len(sequences) * p_train)
    num_val = int(len(sequences) * p_val)
    splits = (
        sequences[:num_train],
        sequences[num_train : num_train + num_val],
        sequences[num_train + num_val :],
    )
    return tuple(Dataset([s[:-1] for s in part], [s[1:] for s in part]) for part in splits)
    # END SOLUTION


# %% [one_hot]
def one_hot_encode(idx, vocab_size):
    """One-hot column vector of shape (vocab_size, 1) with a 1 at row ``idx``."""
    # BEGIN SOLUTION
    one_hot = np.zeros((vocab_size, 1))
    one_hot[idx, 0] = 1.0
    return one_hot
    # END SOLUTION


def one_hot_encode_sequence(sequence, vocab_size, word_to_idx):
    """Encode a list of T words as an array of shape (T, vocab_size, 1)."""
    # BEGIN SOLUTION
    return np.array([one_hot_encode(word_to_idx[word], vocab_size) for word in sequence])
    # END SOLUTION


# %% [rnn_forward]
def init_rnn(hidden_size, vocab_size, seed=0):
    """Parameters ``(U, V, W, b_hidden, b_out)`` of a vanilla RNN.

    Shapes: U (H, V) input-to-hidden, V (H, H) hidden-to-hidden, W (V, H) hidden-to-output,
    b_hidden (H, 1), b_out (V, 1).  Weights are drawn N(0, 1/fan_in) with a seeded
    generator; biases start at zero.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    U = rng.normal(0.0, 1.0 / np.sqrt(vocab_size), (hidden_size, vocab_size))
    V = rng.normal(0.0, 1.0 / np.sqrt(hidden_size), (hidden_size, hidden_size))
    W = rng.normal(0.0, 1.0 / np.sqrt(hidden_size), (vocab_size, hidden_size))
    return U, V, W, np.zeros((hidden_size, 1)), np.zeros((vocab_size, 1))
    # END SOLUTION


def forward_pass(inputs, hidden_state, params):
    """Run the RNN over a sequence.

    inputs: (T, V, 1) one-hot; hidden_state: (H, 1), the state before the first input.
    h_t = tanh(U x_t + V h_{t-1} + b_hidden);  y_t = softmax(W h_t + b_out).

    Returns ``(outputs, hidden_states)``: ``outputs`` is a list of T probability columns
    (V, 1); ``hidden_states`` is a list of T + 1 columns (H, 1) in which
    ``hidden_states[0]`` is the initial state and ``hidden_states[t + 1]`` is h_t.
    """
    # BEGIN SOLUTION
    U, V, W, b_hidden, b_out = params
    outputs, hidden_states = [], [hidden_state.copy()]
    for x in inputs:
        hidden_state = np.tanh(U @ x + V @ hidden_state + b_hidden)
        outputs.append(softmax(W @ hidden_state + b_out))
        hidden_states.append(hidden_state)
    return outputs, hidden_states
    # END SOLUTION


# %% [rnn_backward]
def cross_entropy(outputs, targets):
    """Mean cross-entropy per token, in nats: outputs and targets are T columns (V, 1)."""
    return float(-np.mean([np.log(o[np.argmax(y), 0]) for o, y in zip(outputs, targets)]))


def backward_pass(inputs, outputs, hidden_states, targets, params):
    """Backpropagation through time for the RNN of ``forward_pass``.

    targets: (T, V, 1) one-hot.  Returns ``(loss, grads)`` where ``loss`` is
    ``cross_entropy(outputs, targets)`` and ``grads = (dU, dV, dW, db_hidden, db_out)`` are
    the gradients of exactly that loss, with the shapes of the parameters.  No clipping here.
    """
    # BEGIN SOLUTION
    U, V, W, b_hidden, b_out = params
    dU, dV, dW = np.zeros_like(U), np.zeros_like(V), np.zeros_like(W)
    db_hidden, db_out = np.zeros_like(b_hidden), np.zeros_like(b_out)
    num_steps = len(outputs)
    dh_next = np.zeros_like(hidden_states[0])
    for t in reversed(range(num_steps)):
        h, h_prev = hidden_states[t + 1], hidden_states[t]
        d_out = (outputs[t] - targets[t]) / num_steps
        dW += d_out @ h.T
        db_out += d_out
        dh = W.T @ d_out + dh_next
        d_pre = (1.0 - h**2) * dh
        db_hidden += d_pre
        dU += d_pre @ inputs[t].T
        dV += d_pre @ h_prev.T
        dh_next = V.T @ d_pre
    return cross_entropy(outputs, targets), (dU, dV, dW, db_hidden, db_out)
    # END SOLUTION


# %% [optimiser]
def clip_gradient_norm(grads, max_norm=0.25):
    """Rescale all gradients together so that their joint L2 norm is at most ``max_norm``.

    Returns new arrays; gradients whose joint norm is already within the limit are returned
    unchanged.
    """
    # BEGIN SOLUTION
    total_norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    return tuple(g * scale for g in grads)
    # END SOLUTION


def update_parameters(params, grads, lr=1e-3):
    """One step of plain gradient descent: returns the new parameters ``p - lr * g``."""
    # BEGIN SOLUTION
    return tuple(p - lr * g for p, g in zip(params, grads))
    # END SOLUTION


# %% [train_rnn]
def train_rnn(train_set, val_set, word_to_idx, vocab_size, hidden_size=HIDDEN_SIZE,
              num_epochs=20, lr=0.1, max_norm=1.0, seed=0):
    """Train a vanilla RNN with SGD, one sequence at a time, starting each from h = 0.

    Each step: forward_pass, backward_pass, clip_gradient_norm, update_parameters.  The
    training sequences are visited in a seeded random order every epoch.

    Returns ``(params, train_losses, val_losses)``: the trained parameters and the mean
    per-token loss of each epoch on the training and validation sets (lists of floats).
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    params = init_rnn(hidden_size, vocab_size, seed=seed)
    h0 = np.zeros((hidden_size, 1))

    def encode(words):
        return one_hot_encode_sequence(words, vocab_size, word_to_idx)

    train_losses, val_losses = [], []
    for _ in range(num_epochs):
        epoch_loss = 0.0
        for i in rng.permutation(len(train_set)):
            inputs, targets = (encode(words) for words in train_set[i])
            outputs, hidden_states = forward_pass(inputs, h0, params)
            loss, grads = backward_pass(inputs, outputs, hidden_states, targets, params)
            params = update_parameters(params, clip_gradient_norm(grads, max_norm), lr)
            epoch_loss += loss
        train_losses.append(epoch_loss / len(train_set))
        val_loss = 0.0
        for words_in, words_out in val_set:
            outputs, _ = forward_pass(encode(words_in), h0, params)
            val_loss += cross_entropy(outputs, encode(words_out))
        val_losses.append(val_loss / len(val_set))
    return params, train_losses, val_losses
    # END SOLUTION


# %% [generate]
def greedy_generate(params, prompt, word_to_idx, idx_to_word, max_length=30):
    """Continue a prompt (a list of words) greedily until 'EOS' or ``max_length`` new words.

    Feeds the prompt through the RNN from h = 0, then repeatedly appends the most likely next
    word and feeds it back.  Returns the list of generated words (without the prompt), ending
    with 'EOS' when the model emitted it.
    """
    # BEGIN SOLUTION
    vocab_size = len(idx_to_word)
    hidden_state = np.zeros((params[1].shape[0], 1))
    outputs, hidden_states = forward_pass(
        one_hot_encode_sequence(prompt, vocab_size, word_to_idx), hidden_state, params
    )
    hidden_state, probs = hidden_states[-1], outputs[-1]
    generated = []
    while len(generated) < max_length:
        word = idx_to_word[int(np.argmax(probs))]
        generated.append(word)
        if word == "EOS":
            break
        outputs, hidden_states = forward_pass(
            one_hot_encode_sequence([word], vocab_size, word_to_idx), hidden_state, params
        )
        hidden_state, probs = hidden_states[-1], outputs[-1]
    return generated
    # END SOLUTION


# %% [lstm_forward]
def init_lstm(hidden_size, vocab_size, seed=0):
    """Parameters ``(W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v)`` of an LSTM.

    The gates act on z = [h_{t-1}; x_t] of size H + V: W_f, W_i, W_g, W_o are (H, H + V),
    W_v is (V, H); b_f, b_i, b_g, b_o are (H, 1) and b_v is (V, 1).  Weights are drawn
    N(0, 1/fan_in) with a seeded generator; biases start at zero except the forget-gate bias,
    which starts at one.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    z_size = hidden_size + vocab_size
    gates = [rng.normal(0.0, 1.0 / np.sqrt(z_size), (hidden_size, z_size)) for _ in range(4)]
    W_v = rng.normal(0.0, 1.0 / np.sqrt(hidden_size), (vocab_size, hidden_size))
    biases = [np.ones((hidden_size, 1))] + [np.zeros((hidden_size, 1)) for _ in range(3)]
    return (*gates, W_v, *biases, np.zeros((vocab_size, 1)))
    # END SOLUTION


def lstm_forward(inputs, h_prev, C_prev, params):
    """Run the LSTM over a sequence.

    inputs: (T, V, 1) one-hot; h_prev, C_prev: (H, 1), the states before the first input.
    z = [h_{t-1}; x_t];  f = sigmoid(W_f z + b_f), i = sigmoid(W_i z + b_i),
    g = tanh(W_g z + b_g), o = sigmoid(W_o z + b_o);  C_t = f * C_{t-1} + i * g;
    h_t = o * tanh(C_t);  y_t = softmax(W_v h_t + b_v).

    Returns ``(outputs, cache)``: ``outputs`` is a list of T probability columns (V, 1) and
    ``cache`` holds what ``lstm_backward`` needs (its layout is yours to choose).
    """
    # BEGIN SOLUTION
    W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v = params
    steps, outputs = [], []
    for x in inputs:
        z = np.vstack((h_prev, x))
        f, i = sigmoid(W_f @ z + b_f), sigmoid(W_i @ z + b_i)
        g, o = np.tanh(W_g @ z + b_g), sigmoid(W_o @ z + b_o)
        C = f * C_prev + i * g
        h = o * np.tanh(C)
        outputs.append(softmax(W_v @ h + b_v))
        steps.append((z, f, i, g, o, C_prev, C, h))
        h_prev, C_prev = h, C
    return outputs, (inputs, steps, outputs)
    # END SOLUTION


# %% [lstm_backward]
def lstm_backward(targets, cache, params):
    """Backpropagation through time for ``lstm_forward``, through both h and C.

    targets: (T, V, 1) one-hot.  Returns ``(loss, grads)``: the mean cross-entropy per token
    and its gradients ``(dW_f, dW_i, dW_g, dW_o, dW_v, db_f, db_i, db_g, db_o, db_v)``, with
    the shapes of the parameters.  No clipping here.
    """
    # BEGIN SOLUTION
    W_f, W_i, W_g, W_o, W_v, b_f, b_i, b_g, b_o, b_v = params
    _, steps, outputs = cache
    grads = [np.zeros_like(p) for p in params]
    dW_f, dW_i, dW_g, dW_o, dW_v, db_f, db_i, db_g, db_o, db_v = grads
    hidden_size = W_v.shape[1]
    dh_next, dC_next = np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1))
    num_steps = len(outputs)
    for t in reversed(range(num_steps)):
        z, f, i, g, o, C_prev, C, h = steps[t]
        d_v = (outputs[t] - targets[t]) / num_steps
        dW_v += d_v @ h.T
        db_v += d_v
        dh = W_v.T @ d_v + dh_next
        tanh_C = np.tanh(C)
        d_o = dh * tanh_C * o * (1.0 - o)
        dC = dC_next + dh * o * (1.0 - tanh_C**2)
        d_f = dC * C_prev * f * (1.0 - f)
        d_i = dC * g * i * (1.0 - i)
        d_g = dC * i * (1.0 - g**2)
        dz = np.zeros_like(z)
        for d_pre, dW, db, W in ((d_f, dW_f, db_f, W_f), (d_i, dW_i, db_i, W_i),
                                 (d_g, dW_g, db_g, W_g), (d_o, dW_o, db_o, W_o)):
            dW += d_pre @ z.T
            db += d_pre
            dz += W.T @ d_pre
        dh_next = dz[:hidden_size]
        dC_next = f * dC
    return cross_entropy(outputs, targets), tuple(grads)
    # END SOLUTION


# %% [torch_lstm]
class TorchLSTM(nn.Module):
    """``nn.LSTM`` (one layer, sequence-first) followed by a linear decoder.

    forward(x): x (T, B, V) one-hot floats -> logits (T, B, V).
    """

    def __init__(self, vocab_size, hidden_size=HIDDEN_SIZE):
        super().__init__()
        # BEGIN SOLUTION
        self.lstm = nn.LSTM(input_size=vocab_size, hidden_size=hidden_size)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        output, _ = self.lstm(x)
        return self.decoder(output)
        # END SOLUTION


def train_torch_lstm(train_set, word_to_idx, vocab_size, num_epochs=10, lr=0.01, seed=0):
    """Train a ``TorchLSTM`` with Adam on the mean cross-entropy per token, one sequence per step.

    Returns ``(model, train_losses)``, with the mean loss of each epoch.
    """
    # BEGIN SOLUTION
    torch.manual_seed(seed)
    model = TorchLSTM(vocab_size)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    order = np.random.default_rng(seed)
    train_losses = []
    for _ in range(num_epochs):
        epoch_loss = 0.0
        for i in order.permutation(len(train_set)):
            words_in, words_out = train_set[i]
            x = torch.tensor(one_hot_encode_sequence(words_in, vocab_size, word_to_idx),
                             dtype=torch.float32).permute(0, 2, 1)
            y = torch.tensor([word_to_idx[w] for w in words_out])
            loss = loss_fn(model(x).squeeze(1), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            epoch_loss += loss.item()
        train_losses.append(epoch_loss / len(train_set))
    return model, train_losses
    # END SOLUTION
