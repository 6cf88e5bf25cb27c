"""Calibration of the thresholds of this lab: q4's learning check over the platform
matrix, and the checkpoint thresholds of q7 and q8.

By default, q4's 150-step run on Sherlock (``rnnlab.authoring.platform_matrix``): the reference on seeds
0-9, the catalogue's training bugs, and the q2 bugs that still train (which must pass here,
so that they cost points on q2 only), under every CPU profile, 1 and 2 threads.

With ``--checkpoints``, trains the reference and buggy versions of it on the Sherlock corpus
and prints, for each, what q7 and q8 measure of a checkpoint: the held-out loss (nats per
character on ``HELD_OUT``), the share of real words, the compression ratio and the character
distance of 1000 sampled characters.  A checkpoint is trained by the student, not while
grading: the grader only runs it forward.

    RNNLAB_DATA=../shared/data python assignments/<lab>/calibrate.py [--python OTHER_ENV/bin/python]
    RNNLAB_DATA=../shared/data python assignments/<lab>/calibrate.py --checkpoints [--notebook]

``--notebook`` also trains both models with the notebook's budget (2000 steps of 64 x 100),
which takes several minutes.
"""

import argparse
import contextlib
import sys
import time

import torch

from lab_checks import HELD_OUT, SAMPLE_PRIME
from rnnlab.authoring.platform_matrix import Calibration, Figure, lab_of, main as matrix_main
from rnnlab_checks.corpora import load_corpus
from rnnlab_checks.text import compression_ratio, real_word_share, vocabulary_of
from rnnlab_checks.torch_models import character_distance, held_out_loss

LAB, reference = lab_of(__file__)

EXAMPLE = {"num_steps": 400, "batch_size": 32, "seq_length": 100, "lr": 3e-3}
NOTEBOOK = {"num_steps": 2000, "batch_size": 64, "seq_length": 100, "lr": 2e-3}


REFERENCE_BATCHES = reference.make_batches


def unshifted_batches(encoded, batch_size, seq_length, offset=0):
    """Targets equal to the inputs (the bug 'targets not shifted by one')."""
    return [(inputs, inputs) for inputs, _ in REFERENCE_BATCHES(encoded, batch_size, seq_length, offset)]


class DecoderOnEmbedding(reference.CharRNN):
    def forward(self, input_seq, hidden=None):
        _, hidden = self.rnn(self.embedding(input_seq), hidden)
        return self.decoder(self.embedding(input_seq)), hidden


class TimeAlongBatch(reference.CharRNN):
    """batch_first left False: the recurrence runs along the batch of streams."""

    def forward(self, input_seq, hidden=None):
        self.rnn.batch_first = False
        return super().forward(input_seq, hidden)


@contextlib.contextmanager
def patched(name, value):
    saved = getattr(reference, name)
    setattr(reference, name, value)
    try:
        yield
    finally:
        setattr(reference, name, saved)


def measure(label, model, text, chars, char_to_idx, seconds):
    model.eval()
    held = torch.tensor([char_to_idx[ch] for ch in text[HELD_OUT]])
    clean = reference.CharRNN(len(chars), model.embedding.embedding_dim, model.rnn.hidden_size, 1,
                              "gru" if isinstance(model.rnn, torch.nn.GRU) else "rnn")
    clean.load_state_dict(model.state_dict())  # judged as the grader does: weights in the reference model
    loss = held_out_loss(clean, held)
    written = reference.sample(clean, chars, SAMPLE_PRIME, 1000, temperature=0.8,
                               generator=torch.Generator().manual_seed(0))[len(SAMPLE_PRIME):]
    print(f"{label:42s} held-out {loss:.3f} nats ({loss / 0.6931:.3f} bits)  words "
          f"{real_word_share(written, VOCABULARY):.2f}  compression {compression_ratio(written):.3f}  "
          f"char distance {character_distance(written, text):.3f}  ({seconds:.0f} s)", flush=True)


def trained(model_class, cell, train_data, chars, budget, seed, batches=None):
    torch.manual_seed(seed)
    settings = dict(reference.RNN_SETTINGS)
    if model_class is DecoderOnEmbedding:  # the decoder takes H features: the bug runs only where E = H
        settings["embedding_dim"] = settings["hidden_size"]
    model = model_class(len(chars), cell=cell, **settings)
    started = time.time()
    with patched("make_batches", batches or REFERENCE_BATCHES):
        reference.train(model, train_data, seed=seed, **budget)
    return model, time.time() - started


SHERLOCK = {}


def load_sherlock():
    text = load_corpus("sherlock")
    chars, char_to_idx = reference.build_vocabulary(text)
    SHERLOCK["encoded"] = reference.encode(text[:200_000], char_to_idx)
    SHERLOCK["vocab_size"] = len(chars)


def q4_figures(module, seed):
    """What q4's hidden test reads of the student's own CharRNN and train, with the reference
    make_batches: the mean of the last 10 of 150 steps (E = H = 64, 16 x 64, lr 0.005)."""
    module.make_batches = reference.make_batches
    torch.manual_seed(seed)
    model = module.CharRNN(SHERLOCK["vocab_size"], embedding_dim=64, hidden_size=64, num_layers=1, cell="rnn")
    losses = module.train(model, SHERLOCK["encoded"], num_steps=150, batch_size=16, seq_length=64, lr=0.005,
                          seed=seed, device="cpu")
    return {"loss": sum(float(loss) for loss in losses[-10:]) / 10}


CALIBRATIONS = [
    Calibration(LAB, "q4.py::test_training_learns_on_sherlock",
                (Figure("loss", "mean loss of the last 10 of 150 steps (nats/char)", 2.68),),
                q4_figures, ("no_zero_grad", "hidden_reset_every_chunk", "loss_averaged_per_sequence",
                             "no_random_offset", "decoder_on_the_embedding", "batch_first_missing",
                             "nonlinearity_not_passed_on", "hidden_state_ignored_in_forward"),
                setup=load_sherlock),
]


def checkpoints():
    global VOCABULARY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", action="store_true")
    parser.add_argument("--notebook", action="store_true")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the reference checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(2)
    text = load_corpus("sherlock")
    VOCABULARY = vocabulary_of(text)
    chars, char_to_idx = reference.build_vocabulary(text)
    encoded = reference.encode(text, char_to_idx)
    train_data = encoded[: int(0.9 * len(encoded))]

    print("checkpoints (q7, q8), example budget", EXAMPLE)
    untrained = reference.CharRNN(len(chars), cell="rnn", **reference.RNN_SETTINGS)
    measure("untrained RNN", untrained, text, chars, char_to_idx, 0)
    for cell in ("rnn", "gru"):
        for seed in range(args.seeds):
            model, seconds = trained(reference.CharRNN, cell, train_data, chars, EXAMPLE, seed)
            measure(f"reference {cell}, seed {seed}", model, text, chars, char_to_idx, seconds)
    for label, model_class, batches in (("targets not shifted (rnn)", reference.CharRNN, unshifted_batches),
                                        ("decoder on the embedding (rnn)", DecoderOnEmbedding, None),
                                        ("batch_first missing (rnn)", TimeAlongBatch, None)):
        model, seconds = trained(model_class, "rnn", train_data, chars, EXAMPLE, 0, batches)
        measure(label, model, text, chars, char_to_idx, seconds)
    if args.notebook:
        print("\nnotebook budget", NOTEBOOK)
        for cell in ("rnn", "gru"):
            model, seconds = trained(reference.CharRNN, cell, train_data, chars, NOTEBOOK, 0)
            measure(f"reference {cell}, seed 0", model, text, chars, char_to_idx, seconds)


if __name__ == "__main__":
    sys.exit(checkpoints() if "--checkpoints" in sys.argv else matrix_main(CALIBRATIONS))
