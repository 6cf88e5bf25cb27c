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
    # q4 trains the notebook's own CharRNN: a model with no logits per step cannot be checked
    # there, and it says so (new_model).  q5 samples models of the checks' own making.
    Variant("decoder_sees_the_last_step_only", "q2", "return self.decoder(self.dropout(output)), hidden",
            "return self.decoder(self.dropout(output[:, -1])), hidden", "decode every step", also=("q4",)),
    Variant("dropout_not_applied", "q2", "return self.decoder(self.dropout(output)), hidden",
            "return self.decoder(output), hidden", "dropout argument is not used"),
    Variant("functional_dropout_left_on_in_eval", "q2",
            ("self.dropout = nn.Dropout(dropout)", "return self.decoder(self.dropout(output)), hidden"),
            ("self.dropout = dropout", "return self.decoder(F.dropout(output, self.dropout)), hidden"),
            "stays on in evaluation mode"),
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
    Variant("hidden_carried_across_passes", "q4",
            ("    losses = []\n", "        offset = int(torch.randint(seq_length, (1,), generator=generator))\n"
             "        hidden = None\n"),
            ("    losses = []\n    hidden = None\n",
             "        offset = int(torch.randint(seq_length, (1,), generator=generator))\n"),
            "start each pass from a zero state"),
    Variant("offsets_from_the_global_generator", "q4",
            "offset = int(torch.randint(seq_length, (1,), generator=generator))",
            "offset = int(torch.randint(seq_length, (1,)))", "the seed is not used"),
    Variant("clip_before_backward", "q4",
            "            loss.backward()\n            nn.utils.clip_grad_norm_(model.parameters(), clip)\n",
            "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n            loss.backward()\n",
            "above clip=0.1"),
    Variant("clip_by_value", "q4", "nn.utils.clip_grad_norm_(model.parameters(), clip)",
            "nn.utils.clip_grad_value_(model.parameters(), clip)", "above clip=0.1"),
    Variant("optimizer_built_every_step", "q4",
            ("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n", "            optimizer.zero_grad()\n"),
            ("", "            optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n"
                 "            optimizer.zero_grad()\n"),
            "was built at every step"),
    Variant("optimizer_built_every_pass", "q4",
            ("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n", "        hidden = None\n"),
            ("", "        hidden = None\n        optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n"),
            "at the start of every pass"),
    Variant("learning_rate_ignored", "q4", "torch.optim.Adam(model.parameters(), lr=lr)",
            "torch.optim.Adam(model.parameters(), lr=2e-3)", "not the lr=0.01"),
    Variant("sgd_instead_of_adam", "q4", "torch.optim.Adam(model.parameters(), lr=lr)",
            "torch.optim.SGD(model.parameters(), lr=lr)", "asks for torch.optim.Adam"),
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
    Variant("sample_reads_the_last_prime_character_only", "q5",
            "inputs = torch.tensor([[char_to_idx[ch] for ch in prime]], device=device)",
            "inputs = torch.tensor([[char_to_idx[prime[-1]]]], device=device)", "the prime's last character alone"),
    Variant("sample_draws_after_the_first_prime_character", "q5",
            "probabilities = F.softmax(logits[0, -1] / temperature, dim=-1)",
            "probabilities = F.softmax(logits[0, 0] / temperature, dim=-1)", "drawn after the prime's 'b'"),
    # No torch.no_grad() around the sampling loop (the block kept as it is).
    Variant("sampling_with_gradients", "q5", "    with torch.no_grad():\n", "    if True:\n",
            "sample under torch.no_grad()"),
    Variant("plot_without_legend", "q6", "    ax.legend()\n", "", "no legend"),
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
    Variant("layer_norm_and_functional_dropout", "",
            ("        self.decoder = nn.Linear(hidden_size, vocab_size)",
             "return self.decoder(self.dropout(output)), hidden"),
            ("        self.norm = nn.LayerNorm(hidden_size)\n        self.decoder = nn.Linear(hidden_size, vocab_size)",
             "return self.decoder(F.dropout(self.norm(output), self.dropout.p, training=self.training)), hidden"),
            ""),
    Variant("offset_drawn_between_bounds", "",
            "offset = int(torch.randint(seq_length, (1,), generator=generator))",
            "offset = torch.randint(0, seq_length, (1,), generator=generator).item()", ""),
    Variant("clip_by_hand", "", "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n",
            "            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))\n"
            "            if norm > clip:\n"
            "                for p in model.parameters():\n"
            "                    p.grad.mul_(clip / norm)\n", ""),
    Variant("prime_read_one_character_at_a_time", "", "logits, hidden = model(inputs, None)",
            "hidden = None\n        for index in inputs[0]:\n            logits, hidden = model(index.view(1, 1), hidden)",
            ""),
    Variant("legend_on_the_figure", "", "    ax.legend()\n", "    fig.legend()\n", ""),
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
