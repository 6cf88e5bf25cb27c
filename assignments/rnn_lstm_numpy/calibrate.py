"""Figures behind the learning thresholds of this lab (the hidden tests of q7 and q11),
over the platform matrix (``rnnlab.authoring.platform_matrix``).

Runs the reference over seeds 0-9 and the catalogue's training bugs, exactly as the hidden
tests do, and prints the range of each figure beside its threshold.

    python assignments/<lab>/calibrate.py [--python OTHER_ENV/bin/python]
"""

import sys

import numpy as np

from lab_checks import validation_loss
from rnnlab.authoring.platform_matrix import Calibration, Figure, lab_of, main

LAB, reference = lab_of(__file__)
# What q7's hidden test swaps in from the reference while it runs the student's train_rnn.
TRAINING_PIECES = ["init_rnn", "forward_pass", "backward_pass", "clip_gradient_norm", "update_parameters",
                   "one_hot_encode", "one_hot_encode_sequence", "cross_entropy"]


def q7_figures(module, seed):
    for name in TRAINING_PIECES:
        setattr(module, name, getattr(reference, name))
    sequences = reference.generate_dataset(num_sequences=256, max_n=11, seed=42)
    word_to_idx, idx_to_word, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, val_set, _ = reference.create_datasets(sequences)
    params, _, _ = module.train_rnn(train_set, val_set, word_to_idx, vocab_size, hidden_size=50,
                                    num_epochs=20, lr=0.1, max_norm=1.0, seed=seed)
    right = sum(reference.greedy_generate(params, ["a"] * n + ["b"], word_to_idx, idx_to_word)
                == ["b"] * (n - 1) + ["EOS"] for n in range(1, 12))
    return {"loss": validation_loss(reference, params, val_set, word_to_idx, vocab_size, hidden_size=50),
            "right": right}


def q11_figures(module, seed):
    for name in ("one_hot_encode", "one_hot_encode_sequence"):
        setattr(module, name, getattr(reference, name))
    sequences = reference.generate_dataset(num_sequences=128, max_n=11, seed=42)
    word_to_idx, _, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, _, _ = reference.create_datasets(sequences)
    _, losses = module.train_torch_lstm(train_set, word_to_idx, vocab_size, num_epochs=3, lr=0.01, seed=seed)
    return {"loss": float(losses[-1])}


def entropy_floor(max_n=11):
    """Lowest mean cross-entropy per token (averaged per sequence, as the lab's losses are)
    of a^n b^n EOS with n uniform in 1..max_n: only the a->b switch is uncertain."""
    per_sequence = []
    for n in range(1, max_n + 1):
        entropy = 0.0
        for k in range(1, n + 1):
            p = (max_n - k) / (max_n - k + 1)  # P(another a | k a's read)
            if 0 < p < 1:
                entropy += -(p * np.log(p) + (1 - p) * np.log(1 - p))
        per_sequence.append(entropy / (2 * n))
    return float(np.mean(per_sequence))


CALIBRATIONS = [
    Calibration(LAB, "q7.py::test_learns_the_task_and_continues_every_n",
                (Figure("loss", "validation loss after 20 epochs (nats/token)", 0.45),
                 Figure("right", "a^n b continued right, of 11", 10, ">=")),
                q7_figures, ("training_discards_the_update",)),
    Calibration(LAB, "q11.py::test_torch_training_follows_its_arguments_and_learns",
                (Figure("loss", "training loss of the third epoch (nats/token)", 0.40),),
                q11_figures, ("torch_lstm_batch_first", "torch_optimiser_on_another_model")),
]

if __name__ == "__main__":
    if "--worker" not in sys.argv:
        print(f"entropy floor of the task {entropy_floor():.3f} nats/token; uniform guessing {np.log(4):.3f}")
    sys.exit(main(CALIBRATIONS))
