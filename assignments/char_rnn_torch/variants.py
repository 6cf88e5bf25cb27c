"""Realistic mistakes in this lab, each with the question that must lose points and
words its failure message must contain; and the files a submission carries (checkpoints)."""

import fcntl
import hashlib
import os
import shutil
from pathlib import Path

from rnnlab.authoring.variants import Variant

VARIANTS = [
    Variant("vocabulary_in_order_of_appearance", "q1",
            "chars = sorted(set(text))", "chars = list(dict.fromkeys(text))", "sorted distinct characters"),
    Variant("encode_as_float", "q1",
            "dtype=torch.long)", "dtype=torch.float32)", "torch.long"),
    Variant("decode_returns_a_list", "q1",
            'return "".join(chars[int(i)] for i in indices)', "return [chars[int(i)] for i in indices]",
            "as one str"),
    Variant("gru_answered_with_an_rnn", "q2",
            "self.rnn = nn.GRU(embedding_dim, hidden_size, num_layers,",
            "self.rnn = nn.RNN(embedding_dim, hidden_size, num_layers,", "should hold one nn.GRU"),
    Variant("batch_first_missing", "q2",
            "nonlinearity=nonlinearity,\n                              batch_first=True,",
            "nonlinearity=nonlinearity,\n                              batch_first=False,", "batch_first=True"),
    Variant("nonlinearity_not_passed_on", "q2",
            "nn.RNN(embedding_dim, hidden_size, num_layers, nonlinearity=nonlinearity,",
            "nn.RNN(embedding_dim, hidden_size, num_layers,", "hand nonlinearity on"),
    Variant("decoder_on_the_embedding", "q2",
            "return self.decoder(self.dropout(output)), hidden",
            "return self.decoder(self.dropout(self.embedding(input_seq))), hidden", "not the embedding"),
    Variant("hidden_state_ignored_in_forward", "q2",
            "output, hidden = self.rnn(self.embedding(input_seq), hidden)",
            "output, hidden = self.rnn(self.embedding(input_seq))", "Pass `hidden` on"),
    # q4 and q5 train and sample the notebook's own CharRNN: a model with no logits per step
    # cannot be checked there, and they say so (new_model).
    Variant("decoder_sees_the_last_step_only", "q2", "return self.decoder(self.dropout(output)), hidden",
            "return self.decoder(self.dropout(output[:, -1])), hidden", "decode every step", also=("q4", "q5")),
    Variant("targets_not_shifted", "q3",
            "targets = data[1 : stream_length * batch_size + 1]", "targets = data[: stream_length * batch_size]",
            "shifted one character ahead"),
    Variant("streams_interleaved", "q3",
            "inputs = data[: stream_length * batch_size].view(batch_size, stream_length)",
            "inputs = data[: stream_length * batch_size].view(stream_length, batch_size).t()",
            "continue row b"),
    Variant("no_detach", "q4", "hidden = hidden.detach()\n", "\n", "not detached"),
    Variant("retain_graph_instead_of_detach", "q4",
            "hidden = hidden.detach()\n            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), "
            "targets.reshape(-1))\n            optimizer.zero_grad()\n            loss.backward()",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))\n"
            "            optimizer.zero_grad()\n            loss.backward(retain_graph=True)",
            "not detached between chunks"),
    Variant("no_zero_grad", "q4", "            optimizer.zero_grad()\n            loss.backward()\n",
            "            loss.backward()\n", "optimizer.zero_grad()"),
    Variant("hidden_reset_every_chunk", "q4",
            "logits, hidden = model(inputs, hidden)", "logits, hidden = model(inputs, None)",
            "carry `hidden` from chunk to chunk"),
    Variant("loss_averaged_per_sequence", "q4",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=\"sum\") "
            "/ inputs.shape[0]", "the mean over every character"),
    Variant("softmax_before_the_loss", "q4",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "loss = F.cross_entropy(F.softmax(logits, dim=-1).reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "it is the cross-entropy of softmax(logits)"),
    Variant("logits_flattened_time_major", "q4",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "loss = F.cross_entropy(logits.transpose(0, 1).reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "flattened time-major"),
    Variant("losses_kept_as_tensors", "q4", "losses.append(loss.item())", "losses.append(loss)",
            "still carry their graph"),
    Variant("no_random_offset", "q4",
            "offset = int(torch.randint(seq_length, (1,), generator=generator))", "offset = 0",
            "drawn at random"),
    Variant("softmax_over_the_wrong_dim", "q5",
            "probabilities = F.softmax(logits[0, -1] / temperature, dim=-1)",
            "probabilities = F.softmax(logits[:, -1] / temperature, dim=0)[0]", "chi-square"),
    Variant("temperature_after_the_softmax", "q5",
            "probabilities = F.softmax(logits[0, -1] / temperature, dim=-1)",
            "probabilities = F.softmax(logits[0, -1], dim=-1) / temperature", "at temperature 0.5"),
    Variant("sampling_in_train_mode", "q5", "    model.eval()\n    with torch.no_grad():",
            "    with torch.no_grad():", "model.eval()"),
    Variant("sampling_from_a_zero_state", "q5", "logits, hidden = model(index.view(1, 1).to(device), hidden)",
            "logits, hidden = model(index.view(1, 1).to(device), None)", "sampled from a zero state"),
    Variant("sample_drops_the_prime", "q5", 'return prime + "".join(drawn)', 'return "".join(drawn)',
            "the prime 'a' followed by 30 characters"),
    Variant("plot_without_rolling_mean", "q6",
            '    ax.plot(np.arange(window - 1, len(losses)), rolling, linewidth=2, label=f"rolling mean ({window} steps)")\n',
            "", "two lines"),
    Variant("running_mean_instead_of_rolling", "q6",
            'rolling = np.convolve(losses, np.ones(window) / window, mode="valid")',
            "rolling = (np.cumsum(losses) / np.arange(1, len(losses) + 1))[window - 1 :]", "rolling mean over the last"),
    Variant("rnn_checkpoint_saved_before_training", "q7",
            'RNN_CHECKPOINT = "char_rnn.pt"', 'RNN_CHECKPOINT = "char_rnn_untrained.pt"', "held-out"),
    Variant("rnn_checkpoint_of_the_whole_model", "q7",
            'RNN_CHECKPOINT = "char_rnn.pt"', 'RNN_CHECKPOINT = "char_rnn_model.pt"', "was refused"),
    Variant("gru_checkpoint_of_an_rnn", "q8",
            'GRU_CHECKPOINT = "char_gru.pt"', 'GRU_CHECKPOINT = "char_rnn.pt"', "where this question asks"),
]

# Correct code written differently: full marks expected.
ALTERNATIVES = [
    Variant("decode_through_a_dict", "", 'return "".join(chars[int(i)] for i in indices)',
            'return "".join({i: ch for i, ch in enumerate(chars)}[int(i)] for i in indices)', ""),
    Variant("rolling_mean_with_nan_padding", "",
            'rolling = np.convolve(losses, np.ones(window) / window, mode="valid")',
            'rolling = np.convolve(losses, np.ones(window) / window, mode="valid")\n'
            "    rolling = np.concatenate([np.full(window - 1, np.nan), rolling])",
            ""),
    Variant("rolling_mean_x_from_zero", "", "ax.plot(np.arange(window - 1, len(losses)), rolling,",
            "ax.plot(np.arange(len(rolling)), rolling,", ""),
    Variant("loss_through_nll", "",
            "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            "loss = F.nll_loss(F.log_softmax(logits, dim=-1).flatten(0, 1), targets.flatten())", ""),
]

# The checkpoints of the example submissions: trained like the notebook's, but shorter.
EXAMPLE_TRAINING = {"num_steps": 400, "batch_size": 32, "seq_length": 100, "lr": 3e-3, "seed": 0}


def example_files(folder, reference):
    """Write the checkpoints an example submission carries into ``folder``: the reference's
    RNN and GRU (``char_rnn.pt``, ``char_gru.pt``), an untrained RNN and a pickled whole RNN
    (for the variants above), with ``reference``, the lab's reference module.  Trained once
    and kept in the user cache."""
    source = Path(reference.__file__).read_bytes() + repr(EXAMPLE_TRAINING).encode()
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = cache_root / "rnnlab" / f"{Path(reference.__file__).stem}-examples-{hashlib.sha256(source).hexdigest()[:16]}"
    names = ["char_rnn.pt", "char_gru.pt", "char_rnn_untrained.pt", "char_rnn_model.pt"]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_name(cache.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process trains; the others wait, then copy
        if not all((cache / name).is_file() for name in names):
            train_examples(cache, reference)
        Path(folder).mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copy(cache / name, Path(folder) / name)) for name in names]


def train_examples(cache, reference):
    """Train the reference's RNN and GRU for ``EXAMPLE_TRAINING`` and save the example
    checkpoints into the folder ``cache``."""
    import torch

    from rnnlab_checks.corpora import load_corpus

    text = load_corpus("sherlock")
    chars, char_to_idx = reference.build_vocabulary(text)
    train_data = reference.encode(text, char_to_idx)[: int(0.9 * len(text))]
    partial = cache.with_name(cache.name + ".part")  # under example_files' lock: one trainer at a time
    shutil.rmtree(partial, ignore_errors=True)  # what a killed run left
    partial.mkdir(parents=True)
    for cell in ("rnn", "gru"):
        torch.manual_seed(0)
        settings = reference.RNN_SETTINGS if cell == "rnn" else reference.GRU_SETTINGS
        model = reference.CharRNN(len(chars), cell=cell, **settings)
        if cell == "rnn":
            torch.save(model.state_dict(), partial / "char_rnn_untrained.pt")
        reference.train(model, train_data, device="cpu", **EXAMPLE_TRAINING)
        torch.save(model.state_dict(), partial / f"char_{cell}.pt")
        if cell == "rnn":
            torch.save(model, partial / "char_rnn_model.pt")
    shutil.rmtree(cache, ignore_errors=True)
    partial.rename(cache)
