"""Reference solution of the lab ``char_rnn_torch``.

A character-level recurrent network in PyTorch on the Sherlock Holmes stories: character
maps, ``CharRNN`` (Embedding -> ``nn.RNN`` or ``nn.GRU`` -> Linear), batches of parallel
text streams, training with teacher forcing and truncated backpropagation through time,
sampling with a temperature, and the training curve.

The file is cut into notebook cells at ``# %% [name]`` lines; the narrative in
``assignments/char_rnn_torch/narrative.md`` places them.  Everything between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` is replaced by ``...`` in the student notebook.

Conventions: V characters, batches of B streams, chunks of T characters, E embedding
dimensions, H hidden units, L layers.  Tensors are batch first: a chunk of indices is
(B, T), logits are (B, T, V), the hidden state is (L, B, H).  Losses are the mean
cross-entropy per character, in nats.
"""

# %% [setup]
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# CUDA when there is one; RNNLAB_DEVICE=cpu (or cuda) forces a device.
DEVICE = torch.device(os.environ.get("RNNLAB_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu"))


# %% [vocabulary]
def build_vocabulary(text):
    """The sorted list of the distinct characters of ``text``, and a dict char -> index."""
    # BEGIN SOLUTION
    chars = sorted(set(text))
    return chars, {ch: i for i, ch in enumerate(chars)}
    # END SOLUTION


def encode(text, char_to_idx):
    """``text`` as a 1-D ``torch.long`` tensor of character indices, shape (len(text),)."""
    # BEGIN SOLUTION
    return torch.tensor([char_to_idx[ch] for ch in text], dtype=torch.long)
    # END SOLUTION


def decode(indices, chars):
    """The text of a sequence of indices (a list or a 1-D tensor)."""
    # BEGIN SOLUTION
    return "".join(chars[int(i)] for i in indices)
    # END SOLUTION


# %% [model]
class CharRNN(nn.Module):
    """Embedding (V -> E) -> ``nn.RNN`` or ``nn.GRU`` (E -> H, L layers) -> dropout -> Linear (H -> V).

    ``cell`` is "rnn" or "gru"; ``nonlinearity`` ("tanh" or "relu") is the vanilla RNN's.
    ``forward(input_seq, hidden)``: indices (B, T) and a hidden state (L, B, H) or None
    (zeros) -> logits (B, T, V) and the hidden state after the last character.
    """

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=256, num_layers=1, cell="rnn",
                 nonlinearity="tanh", dropout=0.0):
        super().__init__()
        # BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        between_layers = dropout if num_layers > 1 else 0.0
        if cell == "gru":
            self.rnn = nn.GRU(embedding_dim, hidden_size, num_layers, batch_first=True, dropout=between_layers)
        elif cell == "rnn":
            self.rnn = nn.RNN(embedding_dim, hidden_size, num_layers, nonlinearity=nonlinearity,
                              batch_first=True, dropout=between_layers)
        else:
            raise ValueError(f"cell should be 'rnn' or 'gru', not {cell!r}")
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        # END SOLUTION

    def forward(self, input_seq, hidden=None):
        # BEGIN SOLUTION
        output, hidden = self.rnn(self.embedding(input_seq), hidden)
        return self.decoder(self.dropout(output)), hidden
        # END SOLUTION


# %% [batches]
def make_batches(encoded, batch_size, seq_length, offset=0):
    """Chunks ``(inputs, targets)`` of ``encoded[offset:]``, each of shape (B, T).

    The text is cut into ``batch_size`` streams of equal length, one per row, so that row b
    of chunk k+1 continues where row b of chunk k stopped (the hidden state can be carried
    over).  ``targets`` are the inputs shifted one character ahead.  Returns a list; a last
    chunk shorter than ``seq_length`` is dropped.
    """
    # BEGIN SOLUTION
    data = encoded[offset:]
    stream_length = (len(data) - 1) // batch_size
    inputs = data[: stream_length * batch_size].view(batch_size, stream_length)
    targets = data[1 : stream_length * batch_size + 1].view(batch_size, stream_length)
    return [(inputs[:, start : start + seq_length], targets[:, start : start + seq_length])
            for start in range(0, stream_length - seq_length + 1, seq_length)]
    # END SOLUTION


# %% [train]
def train(model, encoded, num_steps, batch_size=64, seq_length=100, lr=2e-3, seed=0, device="cpu", clip=5.0):
    """Train ``model`` on ``encoded`` for ``num_steps`` chunks with Adam; returns the loss of
    every step (the mean cross-entropy per character of that chunk, in nats).

    Each pass over the text starts at a random offset in [0, seq_length), drawn from
    ``torch.Generator().manual_seed(seed)``, and from a zero hidden state; the chunks of
    ``make_batches`` follow in order, the hidden state carried from one to the next and
    detached in between (truncated BPTT).  Gradients are clipped to norm ``clip``.
    """
    # BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    while len(losses) < num_steps:
        offset = int(torch.randint(seq_length, (1,), generator=generator))
        hidden = None
        for inputs, targets in make_batches(encoded, batch_size, seq_length, offset):
            inputs, targets = inputs.to(device), targets.to(device)
            logits, hidden = model(inputs, hidden)
            hidden = hidden.detach()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == num_steps:
                break
    return losses
    # END SOLUTION


# %% [sample]
def sample(model, chars, prime, length, temperature=1.0, generator=None, device="cpu"):
    """``prime`` followed by ``length`` characters drawn one at a time from the model.

    The model reads ``prime`` (a non-empty str of characters of ``chars``), then each drawn
    character in turn; every draw is from softmax(logits / temperature) over the V
    characters, with ``torch.multinomial(..., generator=generator)``.  Sampling runs in
    evaluation mode (no dropout) and without gradients.
    """
    # BEGIN SOLUTION
    char_to_idx = {ch: i for i, ch in enumerate(chars)}
    model.to(device)
    model.eval()
    with torch.no_grad():
        inputs = torch.tensor([[char_to_idx[ch] for ch in prime]], device=device)
        logits, hidden = model(inputs, None)
        drawn = []
        for _ in range(length):
            probabilities = F.softmax(logits[0, -1] / temperature, dim=-1)
            index = torch.multinomial(probabilities.cpu(), 1, generator=generator)
            drawn.append(chars[int(index)])
            logits, hidden = model(index.view(1, 1).to(device), hidden)
    return prime + "".join(drawn)
    # END SOLUTION


# %% [plot]
def plot_losses(losses, window=50):
    """A matplotlib Figure of the loss of every step (a thin line) and its rolling mean over
    ``window`` steps (the mean of steps i-window+1..i, from step window-1 on), with labelled
    axes and a legend."""
    # BEGIN SOLUTION
    losses = np.asarray(losses, dtype=float)
    window = max(1, min(window, len(losses)))
    rolling = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(np.arange(len(losses)), losses, linewidth=0.5, alpha=0.5, label="loss per step")
    ax.plot(np.arange(window - 1, len(losses)), rolling, linewidth=2, label=f"rolling mean ({window} steps)")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.legend()
    plt.close(fig)  # shown where the notebook displays it, not twice
    return fig
    # END SOLUTION


# %% [rnn_checkpoint]
# The sizes of your vanilla RNN (CharRNN's keyword arguments) and the file you submit.
RNN_SETTINGS = dict(embedding_dim=64, hidden_size=256, num_layers=1)
RNN_CHECKPOINT = "char_rnn.pt"


# %% [gru_checkpoint]
GRU_SETTINGS = dict(embedding_dim=64, hidden_size=256, num_layers=1)
GRU_CHECKPOINT = "char_gru.pt"
