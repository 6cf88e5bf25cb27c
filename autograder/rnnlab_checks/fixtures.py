"""Seeded inputs for checks: random one-hot sequences and parameters in float64."""

import numpy as np

from .failures import CheckFailure


def one_hot_sequence(rng, length, vocab_size):
    """A random sequence as one-hot columns, shape (length, vocab_size, 1)."""
    return np.eye(vocab_size)[rng.integers(0, vocab_size, size=length)][:, :, None]


def random_params(rng, shapes, scale=0.5):
    """A tuple of float64 arrays N(0, scale^2) with the given shapes."""
    return tuple(rng.normal(0.0, scale, shape) for shape in shapes)


def mean_cross_entropy(outputs, targets):
    """Mean cross-entropy per token of probability columns against one-hot targets."""
    return float(-np.mean([np.log(np.asarray(o)[np.argmax(y), 0]) for o, y in zip(outputs, targets)]))


def notebook_generator(env, seed):
    """``np.random.default_rng(seed)`` made by the notebook's own numpy.

    While grading, the notebook's functions run in the student's kernel, which can only call
    the checks' objects, not use their methods; a generator for them is made over there.
    """
    numpy = env.get("np")
    if numpy is None:
        raise CheckFailure("the notebook has no `np`: keep the first cell's `import numpy as np`.")
    return numpy.random.default_rng(seed)
