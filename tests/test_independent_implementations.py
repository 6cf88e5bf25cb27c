"""The two independent implementations of char_rnn_numpy's student functions in
tests/independent/ behave as the reference does wherever the lab's checks compare, and are
not the reference's code: the similarity tests and benchmark rely on both."""

import ast
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

from rnnlab.authoring.labs import reference_module

FOLDER = Path(__file__).parent / "independent"
STYLES = ["char_rnn_numpy_loops", "char_rnn_numpy_vectorised"]
STUDENT_FUNCTIONS = ["build_vocabulary", "one_hot", "init_params", "softmax", "forward", "sequence_loss", "backward",
                     "clip_gradients", "adagrad_update", "sample", "predict", "train"]
TEXT = ("It is a capital mistake to theorize before one has data. Insensibly one begins to twist facts "
        "to suit theories, instead of theories to suit facts. -- Sherlock Holmes, A Scandal in Bohemia\n")


@pytest.fixture(scope="module")
def ref():
    return reference_module("char_rnn_numpy")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"independent_{name}", FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=STYLES)
def mod(request):
    return _load(request.param)


def _params(ref, hidden_size, vocab_size, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    U, W, V, b, c = ref.init_params(hidden_size, vocab_size, rng)
    # biases that are not zero, so that forgetting them shows
    return U, W, V, rng.normal(0, scale, b.shape), rng.normal(0, scale, c.shape)


def _assert_all_close(actual, expected, rtol=1e-10, atol=1e-12):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        a = np.asarray(a)
        assert a.shape == np.shape(e)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def _bodies(path):
    """Function name -> ast.dump of its body without the docstring, for the module's
    top-level functions."""
    tree = ast.parse(Path(path).read_text())
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            bodies[node.name] = ast.dump(ast.Module(body=body, type_ignores=[]))
    return bodies


def test_same_names_signatures_and_constants(mod, ref):
    for name in STUDENT_FUNCTIONS:
        assert inspect.signature(getattr(mod, name)) == inspect.signature(getattr(ref, name)), name
    for constant in ("HIDDEN_SIZE", "SEQ_LENGTH", "LEARNING_RATE", "CLIP_LIMIT", "PARAM_NAMES"):
        assert getattr(mod, constant) == getattr(ref, constant)
    extra = [name for name, value in vars(mod).items() if inspect.isfunction(value)
             and value.__module__ == mod.__name__ and name not in STUDENT_FUNCTIONS]
    assert all(name.startswith("_") for name in extra), extra


def test_bodies_are_not_the_references(mod, ref):
    mine, reference = _bodies(mod.__file__), _bodies(ref.__file__)
    for name in STUDENT_FUNCTIONS:
        assert mine[name] != reference[name], f"{name}'s body is the reference's"
    # and the two styles are not each other's either
    others = _bodies(FOLDER / f"{next(s for s in STYLES if not mod.__file__.endswith(s + '.py'))}.py")
    assert all(mine[name] != others[name] for name in STUDENT_FUNCTIONS)


def test_build_vocabulary(mod, ref):
    for text in (TEXT, "hello world", "Élan!\tb\na", "aaaa"):
        chars, char_to_ix, ix_to_char = mod.build_vocabulary(text)
        expected = ref.build_vocabulary(text)
        assert list(chars) == expected[0]
        assert dict(char_to_ix) == expected[1]
        assert dict(ix_to_char) == expected[2]


def test_one_hot(mod, ref):
    for ix, size in ((0, 1), (3, 8), (7, 8), (40, 65)):
        column = mod.one_hot(ix, size)
        assert column.shape == (size, 1)
        np.testing.assert_array_equal(column, ref.one_hot(ix, size))


def test_init_params_draws_as_the_reference(mod, ref):
    for hidden_size, vocab_size, seed in ((8, 20, 0), (60, 15, 1), (5, 5, 7)):
        mine = mod.init_params(hidden_size, vocab_size, np.random.default_rng(seed))
        _assert_all_close(mine, ref.init_params(hidden_size, vocab_size, np.random.default_rng(seed)), atol=0)
        assert not mine[3].any() and not mine[4].any()
    # the generator is left where the reference leaves it
    rng_mine, rng_ref = np.random.default_rng(3), np.random.default_rng(3)
    mod.init_params(6, 9, rng_mine)
    ref.init_params(6, 9, rng_ref)
    assert rng_mine.random() == rng_ref.random()


def test_softmax_including_large_scores(mod, ref):
    scores = np.random.default_rng(3).normal(0, 3, (7, 4))
    scores[:, 3] = [1000, 999, -1000, 500, 0, -3, 998]
    result = mod.softmax(scores)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, ref.softmax(scores), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mod.softmax(np.array([[1000.0], [0.0], [-1000.0]])), [[1.0], [0.0], [0.0]])
    np.testing.assert_allclose(result.sum(axis=0), 1.0)


def test_forward_and_sequence_loss(mod, ref):
    rng = np.random.default_rng(1)
    params = _params(ref, 7, 6, 1)
    inputs, targets = [int(i) for i in rng.integers(0, 6, 9)], [int(i) for i in rng.integers(0, 6, 9)]
    hprev = np.tanh(rng.normal(size=(7, 1)))
    kept = hprev.copy()
    xs, hs, ps = mod.forward(inputs, hprev, params)
    expected = ref.forward(inputs, hprev, params)
    np.testing.assert_array_equal(hprev, kept)
    for mine, theirs in zip((xs, hs, ps), expected):
        assert isinstance(mine, dict) and set(mine) == set(theirs)
        for t in theirs:
            np.testing.assert_allclose(mine[t], theirs[t], rtol=1e-12, atol=1e-15)
    assert hs[-1] is not hprev
    loss = mod.sequence_loss(ps, targets)
    assert isinstance(loss, float)
    assert loss == pytest.approx(ref.sequence_loss(expected[2], targets), rel=1e-12)
    two = {0: np.array([[0.5], [0.25], [0.25]]), 1: np.array([[0.1], [0.8], [0.1]])}
    assert mod.sequence_loss(two, [0, 1]) == pytest.approx(-np.log(0.5) - np.log(0.8), rel=1e-12)


@pytest.mark.parametrize("length", [1, 6, 25])
def test_backward(mod, ref, length):
    rng = np.random.default_rng(length)
    params = _params(ref, 9, 5, length, scale=0.3)
    inputs, targets = [int(i) for i in rng.integers(0, 5, length)], [int(i) for i in rng.integers(0, 5, length)]
    cache = ref.forward(inputs, np.tanh(rng.normal(size=(9, 1))), params)
    _assert_all_close(mod.backward(*cache, targets, params), ref.backward(*cache, targets, params))


def test_clip_gradients(mod, ref):
    grads = tuple(np.random.default_rng(6).normal(0, 4, shape) for shape in ((9, 6), (9, 9), (6, 9), (9, 1), (6, 1)))
    kept = [g.copy() for g in grads]
    for limit in (5.0, 1.5):
        clipped = mod.clip_gradients(grads, limit)
        assert isinstance(clipped, tuple)
        _assert_all_close(clipped, ref.clip_gradients(grads, limit), rtol=0, atol=0)
    _assert_all_close(mod.clip_gradients(grads), ref.clip_gradients(grads), rtol=0, atol=0)
    _assert_all_close(grads, kept, rtol=0, atol=0)


def test_adagrad_update(mod, ref):
    rng = np.random.default_rng(8)
    shapes = ((6, 5), (6, 6), (5, 6), (6, 1), (5, 1))
    params = mine_params = tuple(rng.normal(size=s) for s in shapes)
    memory = mine_memory = tuple(np.zeros(s) for s in shapes)
    for _ in range(3):
        grads = tuple(rng.normal(size=s) for s in shapes)
        grads[4][0, 0] = 0.0
        before = [p.copy() for p in mine_params], [m.copy() for m in mine_memory]
        result = mod.adagrad_update(mine_params, grads, mine_memory, 0.05)
        _assert_all_close(mine_params, before[0], rtol=0, atol=0)  # nothing changed in place
        _assert_all_close(mine_memory, before[1], rtol=0, atol=0)
        params, memory = ref.adagrad_update(params, grads, memory, 0.05)
        assert isinstance(result[0], tuple) and isinstance(result[1], tuple)
        mine_params, mine_memory = result
        _assert_all_close(mine_memory, memory, rtol=1e-12)
        _assert_all_close(mine_params, params, rtol=1e-12)


def test_sample_draws_as_the_reference(mod, ref):
    params = _params(ref, 5, 7, 0, scale=1.0)
    h = np.tanh(np.random.default_rng(1).normal(size=(5, 1)))
    for temperature, seed in ((1.0, 3), (0.5, 4), (1e-3, 0)):
        mine = mod.sample(params, h, 2, 40, temperature, np.random.default_rng(seed))
        assert mine == ref.sample(params, h, 2, 40, temperature, np.random.default_rng(seed))
        assert all(type(ix) is int for ix in mine)
    assert len(mod.sample(params, h, 2, 10)) == 10  # rng=None: a fresh generator


def test_predict_as_the_reference(mod, ref):
    chars = "abcdefgh "
    char_to_ix, ix_to_char = {ch: i for i, ch in enumerate(chars)}, dict(enumerate(chars))
    params = _params(ref, 10, len(chars), 4, scale=1.0)
    for prefix, temperature in (("h", 1.0), ("dead beef", 0.7), ("fac", 1e-3)):
        mine = mod.predict(params, char_to_ix, ix_to_char, prefix, 20, temperature, np.random.default_rng(0))
        assert isinstance(mine, str) and len(mine) == 20
        assert mine == ref.predict(params, char_to_ix, ix_to_char, prefix, 20, temperature, np.random.default_rng(0))


def test_train_as_the_reference(mod, ref):
    # 201 characters, and a vocabulary with characters the text lacks; 40 iterations of
    # chunks of 10 wrap around the text twice.
    text = TEXT[:201]
    char_to_ix = {ch: i for i, ch in enumerate(sorted(set(text) | set("?\nXZ")))}
    params, losses = mod.train(text, char_to_ix, hidden_size=8, seq_length=10, learning_rate=0.05,
                               num_iterations=40, seed=3)
    expected_params, expected_losses = ref.train(text, char_to_ix, hidden_size=8, seq_length=10, learning_rate=0.05,
                                                 num_iterations=40, seed=3)
    assert len(losses) == 40
    np.testing.assert_allclose(np.asarray(losses, dtype=float), expected_losses, rtol=1e-10)
    _assert_all_close(params, expected_params, rtol=1e-8, atol=1e-10)
    assert losses[-1] < losses[0]
