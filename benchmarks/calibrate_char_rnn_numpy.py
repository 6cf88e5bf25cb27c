"""Figures behind the learning and text thresholds of char_rnn_numpy (the q10 hidden test).

Trains the reference's ``train`` over several seeds, and the training-loop bugs of the
catalogue, exactly as the hidden test does (2000 iterations on 20,000 characters of
Sherlock Holmes), and prints what the thresholds sit between: the fall of the smooth
loss, the held-out loss, and the share of real words and the compression ratio of a
sampled text.

    python benchmarks/calibrate_char_rnn_numpy.py
"""

import math
import types

import numpy as np

import solutions.char_rnn_numpy as reference
from autograder.checks.corpora import load_corpus
from autograder.checks.text import compression_ratio, real_word_share, vocabulary_of
from autograder.checks.training import TRAINING_PIECES
from autograder.labs import SOLUTIONS
from autograder.variants import catalogue

LAB = "char_rnn_numpy"


def variant_module(variant):
    """The reference module with one catalogue bug applied (None: the reference)."""
    source = (SOLUTIONS / f"{LAB}.py").read_text()
    if variant is not None:
        assert source.count(variant.find) == 1, variant.name
        source = source.replace(variant.find, variant.replace)
    module = types.ModuleType(variant.name if variant else "reference")
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    return module


def figures(module, seed, corpus, vocabulary):
    """What the hidden test measures, for ``module.train`` with the reference's pieces."""
    chars, char_to_ix, ix_to_char = reference.build_vocabulary(corpus)
    for name in TRAINING_PIECES:
        setattr(module, name, getattr(reference, name))
    params, smooth = module.train(corpus[100_000:120_000], char_to_ix, hidden_size=100, seq_length=25,
                                  learning_rate=0.03, num_iterations=2000, seed=seed)
    held_out = [char_to_ix[ch] for ch in corpus[1_500_000:1_505_000]]
    _, _, ps = reference.forward(held_out[:-1], np.zeros((100, 1)), params)
    nats = reference.sequence_loss(ps, held_out[1:]) / (len(held_out) - 1)
    text = reference.predict(params, char_to_ix, ix_to_char, "The ", 600, 0.7, np.random.default_rng(0))
    return smooth[0] - smooth[-1], nats, real_word_share(text, vocabulary), compression_ratio(text), text


def main():
    corpus = load_corpus("sherlock")
    vocabulary = vocabulary_of(corpus)
    print(f"uniform {math.log(len(set(corpus))):.3f} nats/char")
    print(f"{'train':40s} seed  fall   held-out  real-words  compression")
    runs = [(None, seed) for seed in range(10)]
    runs += [(v, 0) for v in catalogue(LAB) if v.question == "q10"]
    for variant, seed in runs:
        fall, nats, share, ratio, text = figures(variant_module(variant), seed, corpus, vocabulary)
        name = variant.name if variant else "reference"
        print(f"{name:40s} {seed:4d}  {fall:5.1f}  {nats:8.3f}  {share:10.2f}  {ratio:11.3f}  {text[:50]!r}")


if __name__ == "__main__":
    main()
