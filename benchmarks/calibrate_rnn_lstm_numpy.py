"""Figures behind the learning thresholds of rnn_lstm_numpy (q7 and q11 hidden tests).

Runs the reference over several seeds and the training-loop bugs of the catalogue, exactly
as the hidden tests do, and prints the losses that the thresholds sit between.

    python benchmarks/calibrate_rnn_lstm_numpy.py
"""

import types

import numpy as np

import solutions.rnn_lstm_numpy as reference
from autograder.labs import SOLUTIONS
from autograder.variants import catalogue

LAB = "rnn_lstm_numpy"


def variant_module(variant):
    """The reference module with one catalogue bug applied."""
    source = (SOLUTIONS / f"{LAB}.py").read_text()
    assert source.count(variant.find) == 1, variant.name
    module = types.ModuleType(variant.name)
    exec(compile(source.replace(variant.find, variant.replace), variant.name, "exec"), module.__dict__)
    return module


def q7_figures(module, seed):
    sequences = reference.generate_dataset(num_sequences=256, max_n=11, seed=42)
    word_to_idx, idx_to_word, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, val_set, _ = reference.create_datasets(sequences)
    params, _, val = module.train_rnn(train_set, val_set, word_to_idx, vocab_size, hidden_size=50,
                                      num_epochs=20, lr=0.1, max_norm=1.0, seed=seed)
    right = sum(reference.greedy_generate(params, ["a"] * n + ["b"], word_to_idx, idx_to_word)
                == ["b"] * (n - 1) + ["EOS"] for n in range(1, 12))
    return min(val), right


def q11_figure(module, seed):
    sequences = reference.generate_dataset(num_sequences=128, max_n=11, seed=42)
    word_to_idx, _, _, vocab_size = reference.sequences_to_dicts(sequences)
    train_set, _, _ = reference.create_datasets(sequences)
    _, losses = module.train_torch_lstm(train_set, word_to_idx, vocab_size, num_epochs=3, lr=0.01, seed=seed)
    return losses[-1]


def main():
    print("q7: best validation loss in 20 epochs, and a^n b continuations right out of 11")
    for seed in range(10):
        loss, right = q7_figures(reference, seed)
        print(f"  reference seed {seed}: {loss:.3f} nats/token, {right}/11")
    q11_bugs = []
    for variant in catalogue(LAB):
        if variant.question == "q7":
            loss, right = q7_figures(variant_module(variant), 0)
            print(f"  {variant.name}: {loss:.3f} nats/token, {right}/11")
        if variant.question == "q11":
            q11_bugs.append(variant)
    print("q11: PyTorch LSTM training loss of the third epoch")
    for seed in range(3):
        print(f"  reference seed {seed}: {q11_figure(reference, seed):.3f}")
    for variant in q11_bugs:
        try:
            print(f"  {variant.name}: {q11_figure(variant_module(variant), 0):.3f}")
        except Exception as error:  # a bug may break training outright, which the test also catches
            print(f"  {variant.name}: fails with {type(error).__name__}: {error}")
    print("entropy floor of the task:", round(entropy_floor(), 3), "nats/token; uniform:", round(np.log(4), 3))


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


if __name__ == "__main__":
    main()
