"""The checks library on its own: gradient checks must pass right gradients and name wrong ones."""

import sys

import numpy as np
import pytest

from rnnlab_checks import CheckFailure
from rnnlab_checks.arrays import check_close, check_shape
from rnnlab_checks.feedback import RAISED_IN_KERNEL, failure_message
from rnnlab_checks.gradients import (RELATIVE_TOLERANCE, TINY, check_bptt, check_gradients,
                                     find_gradient_mismatches, relative_error)
from rnnlab_checks.relations import how_it_differs
from rnnlab_engine import remote
from rnnlab_engine.checker import otter_test_files
from rnnlab.authoring.labs import ROOT, lab_module


def quadratic_loss(params):
    a, b = params
    return float(np.sum(a ** 3) + np.sum(a[:, :1] * b))


def quadratic_grads(params):
    a, b = params
    da = 3 * a ** 2
    da[:, :1] += b
    return da, a[:, :1].copy()


def test_relative_error_is_symmetric_and_floored():
    assert relative_error(1.0, 1.0) == 0
    assert relative_error(1.0, 2.0) == pytest.approx(0.5)
    assert relative_error(0.0, 1e-12) == pytest.approx(1e-12 / TINY)  # tiny: compared absolutely


def test_right_gradients_pass_small_and_large():
    rng = np.random.default_rng(0)
    for shape in [(3, 4), (30, 40)]:  # full coordinate check, then sampled plus directions
        params = (rng.normal(size=shape), rng.normal(size=(shape[0], 1)))
        assert find_gradient_mismatches(quadratic_loss, params, quadratic_grads(params), ["A", "b"]) == []


def test_wrong_coordinate_is_named():
    rng = np.random.default_rng(1)
    params = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    da, db = quadratic_grads(params)
    da[2, 3] += 0.5
    with pytest.raises(CheckFailure, match=r"f: dA is wrong at index \(2, 3\)"):
        check_gradients("f", quadratic_loss, params, (da, db), ["A", "b"])


def test_large_parameter_error_caught_by_a_random_direction():
    rng = np.random.default_rng(2)
    params = (rng.normal(size=(30, 40)), rng.normal(size=(30, 1)))
    da, db = quadratic_grads(params)
    da *= 1.01  # a 1 % scale error everywhere: every sampled coordinate and direction sees it
    (mismatch,) = find_gradient_mismatches(quadratic_loss, params, (da, db), ["A", "b"])
    assert mismatch.name == "A" and mismatch.error > RELATIVE_TOLERANCE
    assert mismatch.relation == "is 1.01 times the right one everywhere (a factor too many or too few, or a rescaling such as clipping)"


def test_wrong_shape_is_reported():
    rng = np.random.default_rng(3)
    params = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    da, db = quadratic_grads(params)
    with pytest.raises(CheckFailure, match=r"db has shape \(1, 3\), expected \(3, 1\)"):
        check_gradients("f", quadratic_loss, params, (da, db.T), ["A", "b"])


def test_nan_gradient_is_reported():
    params = (np.ones((2, 2)), np.ones((2, 1)))
    da, db = quadratic_grads(params)
    da[0, 0] = np.nan
    with pytest.raises(CheckFailure, match="dA contains NaN"):
        check_gradients("f", quadratic_loss, params, (da, db), ["A", "b"])


def test_bptt_names_the_first_wrong_step():
    """A linear recurrence whose 'backward' drops the carried gradient after step 0."""
    rng = np.random.default_rng(4)
    xs = rng.normal(size=5)
    params = (np.array([[0.7]]),)

    def loss_for_length(length):
        def loss(p):
            h, total = 0.0, 0.0
            for x in xs[:length]:
                h = p[0][0, 0] * h + x
                total += h
            return total
        return loss

    def grads_for_length(length):  # d/dw of sum_t h_t, but without carrying dh back in time
        hs = [0.0]
        for x in xs[:length]:
            hs.append(params[0][0, 0] * hs[-1] + x)
        return (np.array([[sum(hs[:length])]]),)

    with pytest.raises(CheckFailure, match="the first wrong step is t = 2"):
        check_bptt("g", loss_for_length, grads_for_length, params, ["w"], num_steps=5)


def test_value_and_shape_messages():
    with pytest.raises(CheckFailure, match=r"x has shape \(2,\), expected \(2, 1\)"):
        check_shape("x", [1, 2], (2, 1))
    with pytest.raises(CheckFailure, match=r"y is wrong at index \(1,\): got 3, expected 2"):
        check_close("y", [1.0, 3.0], [1.0, 2.0])
    with pytest.raises(CheckFailure, match="not implemented"):
        check_shape("z", None, (1,))


class _RunsCodeWhenUnpickled:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import pathlib
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_checkpoints_load_weights_and_refuse_code(tmp_path):
    import torch

    from rnnlab_checks.checkpoints import load_weights
    model = torch.nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "good.pt")
    assert set(load_weights(tmp_path / "good.pt")) == {"weight", "bias"}
    marker = tmp_path / "code-ran"
    torch.save({"weight": _RunsCodeWhenUnpickled(marker)}, tmp_path / "evil.pt")
    with pytest.raises(CheckFailure, match="evil.pt.*was refused"):
        load_weights(tmp_path / "evil.pt")
    assert not marker.exists()
    torch.save(model, tmp_path / "whole-model.pt")
    with pytest.raises(CheckFailure, match="refused.*not the model object"):
        load_weights(tmp_path / "whole-model.pt")
    with pytest.raises(CheckFailure, match="missing"):
        load_weights(tmp_path / "absent.pt")


def test_chi_square_p_values_match_the_tables():
    from rnnlab_checks.sampling import chi_square_p_value
    # Critical values from the chi-square table: (statistic, degrees of freedom, p).
    for statistic, dof, p in [(3.841, 1, 0.05), (11.070, 5, 0.05), (20.515, 5, 0.001), (124.342, 100, 0.05)]:
        assert chi_square_p_value(statistic, dof) == pytest.approx(p, rel=2e-3)
    assert chi_square_p_value(0.0, 3) == 1.0 and chi_square_p_value(500.0, 5) < 1e-100


def test_draws_from_the_distribution_pass_and_argmax_draws_fail():
    from rnnlab_checks.sampling import check_draws_follow
    probabilities = np.array([0.5, 0.3, 0.2])
    draws = np.random.default_rng(0).choice(3, size=2000, p=probabilities)
    assert check_draws_follow("sample", draws, probabilities, 0.001, "at T = 1") > 0.001
    with pytest.raises(CheckFailure, match=r"frequencies \[1.00, 0.00, 0.00\].*softmax gives \[0.50, 0.30, 0.20\]"):
        check_draws_follow("sample", np.zeros(2000, dtype=int), probabilities, 0.001, "at T = 1")


def test_text_measures_separate_prose_from_loops_and_noise():
    from rnnlab_checks.text import check_sampled_text, compression_ratio, real_word_share
    vocabulary = {"the", "dog", "barked", "at", "night"}
    assert real_word_share("The dog barked at the xqzt", vocabulary) == pytest.approx(4 / 5)  # 'at' too short
    assert real_word_share("a b c", vocabulary) == 0.0
    prose = "It is a capital mistake to theorize before one has data. Insensibly one begins to twist facts."
    assert compression_ratio(prose) > 0.6 > 0.2 > compression_ratio("the dog " * 40)
    with pytest.raises(CheckFailure, match="repeats itself"):
        check_sampled_text("train", "the dog " * 40, vocabulary, 0.5, 0.35)
    with pytest.raises(CheckFailure, match="only 0% of the words"):
        check_sampled_text("train", "xqz vbn plk " * 3, vocabulary, 0.15, 0.35)


def test_loss_thresholds_speak_in_nats_and_bits_beside_the_baselines():
    from rnnlab_checks.learning import check_loss_below
    check_loss_below("train", "held-out loss", 2.3, 2.5, unit="character", uniform_guessing=4.62)
    with pytest.raises(CheckFailure, match=r"is 3.0000 nats per character \(4.328 bits\), above the threshold "
                                           r"2.5 \(uniform guessing 4.62, letter frequencies only 3.08\)"):
        check_loss_below("train", "held-out loss", 3.0, 2.5, unit="character", uniform_guessing=4.62,
                         letter_frequencies_only=3.08)
    with pytest.raises(CheckFailure, match="diverged"):
        check_loss_below("train_rnn", "validation loss", float("nan"), 0.33)


def test_checkpoint_layout_is_found_whatever_the_names(tmp_path):
    import torch

    from rnnlab_checks.checkpoints import load_weights

    char_rnn_layout = lab_module("char_rnn_torch", "lab_checks").char_rnn_layout

    class Renamed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.chars = torch.nn.Embedding(10, 4)
            self.cell = torch.nn.GRU(4, 6, num_layers=2, batch_first=True)
            self.out = torch.nn.Linear(6, 10)

    torch.save(Renamed().state_dict(), tmp_path / "model.pt")
    renamed, sizes = char_rnn_layout(load_weights(tmp_path / "model.pt"))
    assert sizes == {"cell": "gru", "vocab_size": 10, "embedding_dim": 4, "hidden_size": 6, "num_layers": 2}
    assert "rnn.weight_hh_l1" in renamed and "decoder.bias" in renamed
    (tmp_path / "link.pt").symlink_to(tmp_path / "model.pt")
    with pytest.raises(CheckFailure, match="link"):
        load_weights(tmp_path / "link.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "whole.pt")  # a module object, not a state dict
    with pytest.raises(CheckFailure, match="refused"):
        load_weights(tmp_path / "whole.pt")


def test_written_answers_follow_the_answer_cells():
    import nbformat

    from rnnlab_engine.grading import UNANSWERED, written_answers

    questions = [{"name": "q9", "points": 2, "prompt": "Compare."}, {"name": "q10", "points": 1, "prompt": "Why?"}]
    cell = nbformat.v4.new_markdown_cell("The GRU, because its gates keep the gradient.",
                                         metadata={"tags": ["otter_answer_cell"]})
    blank = nbformat.v4.new_markdown_cell(UNANSWERED, metadata={"tags": ["otter_answer_cell"]})
    answers = written_answers(nbformat.v4.new_notebook(cells=[cell, blank]), questions)
    assert [a["answer"] for a in answers] == ["The GRU, because its gates keep the gradient.", ""]


def test_device_follows_rnnlab_device(monkeypatch):
    import torch

    from rnnlab_checks.devices import pick_device

    monkeypatch.setenv("RNNLAB_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.delenv("RNNLAB_DEVICE")
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv("RNNLAB_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA"):
            pick_device()


def test_oversized_checkpoint_is_refused_unread(tmp_path):
    from rnnlab_checks.checkpoints import MAX_CHECKPOINT_BYTES, load_weights

    with open(tmp_path / "big.pt", "wb") as file:
        file.truncate(MAX_CHECKPOINT_BYTES + 1)
    with pytest.raises(CheckFailure, match="over the limit"):
        load_weights(tmp_path / "big.pt")
    with pytest.raises(CheckFailure, match="is missing"):
        load_weights(tmp_path / "absent.pt")


@pytest.mark.slow
def test_a_checkpoint_is_read_through_the_numbering_it_was_trained_with(tmp_path, monkeypatch, corpus_folder):
    """A model trained with the notebook's own (unsorted) vocabulary is measured in it; one
    trained with the lab's sorted vocabulary in that one, whatever the notebook says."""
    import torch

    from rnnlab.authoring.variants import example_files

    check_held_out_loss = lab_module("char_rnn_torch", "lab_checks").check_held_out_loss

    trained = next(f for f in example_files("char_rnn_torch", tmp_path / "examples") if f.name == "char_rnn.pt")
    notebook = {}
    exec((ROOT / "solutions" / "char_rnn_torch.py").read_text(), notebook)
    text = (corpus_folder / "sherlock.txt").read_text(encoding="latin-1")
    appearance = list(dict.fromkeys(text))
    notebook["build_vocabulary"] = lambda text: (appearance, {ch: i for i, ch in enumerate(appearance)})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNLAB_DATA", str(corpus_folder))
    sorted_state = torch.load(trained, weights_only=True)
    order = torch.tensor([sorted(set(text)).index(ch) for ch in appearance])  # appearance index -> sorted index
    relabelled = {name: value[order] if name in ("embedding.weight", "decoder.weight", "decoder.bias") else value
                  for name, value in sorted_state.items()}
    for state in (sorted_state, relabelled):  # the lab's numbering, then the notebook's
        torch.save(state, tmp_path / "char_rnn.pt")
        check_held_out_loss(notebook, "char_rnn.pt", "rnn", "the checkpoint", 1.9)
    notebook["build_vocabulary"] = lambda text: (sorted(set(text)), {ch: i for i, ch in enumerate(sorted(set(text)))})
    with pytest.raises(CheckFailure, match="above the threshold"):
        check_held_out_loss(notebook, "char_rnn.pt", "rnn", "the checkpoint", 1.9)


def test_relations_name_what_a_wrong_array_is():
    rng = np.random.default_rng(9)
    right = rng.normal(size=(5, 5))
    assert "exactly 6 times" in how_it_differs(6 * right, right, steps=6)
    assert "number of time steps" in how_it_differs(6 * right, right, steps=6)
    assert "exactly 1/6" in how_it_differs(right / 6, right, steps=6)
    assert how_it_differs(2 * right, right).startswith("is exactly 2 times")
    assert how_it_differs(-right, right).startswith("has the opposite sign")
    assert how_it_differs(right.T, right).startswith("is transposed")
    assert how_it_differs(0 * right, right).startswith("is zero everywhere")
    assert how_it_differs(np.clip(right, -0.5, 0.5), right).startswith("is cut off at +-0.5")
    assert how_it_differs(right + 0.01 * rng.normal(size=(5, 5)), right) is None  # no simple relation
    assert how_it_differs(right * (1 + 1e-9), right) is None  # right, to rounding
    # One value is a multiple of any other: only the named factors are said for it.
    assert how_it_differs(np.array([1.7]), np.array([1.0])) is None
    assert how_it_differs(np.array([2.0]), np.array([1.0])).startswith("is exactly 2 times")
    # Against values at some indices only (a sampled check): the transpose is still seen.
    indices = [(0, 1), (2, 3), (4, 0), (1, 1)]
    assert how_it_differs(right.T, [right[i] for i in indices], indices=indices).startswith("is transposed")


def test_every_wrong_parameter_is_named_with_how_it_is_wrong():
    """One bug does not hide another: both parameters are reported, each with its relation."""
    rng = np.random.default_rng(10)
    params = (rng.normal(size=(3, 4)), rng.normal(size=(3, 1)))
    da, db = quadratic_grads(params)
    with pytest.raises(CheckFailure) as failure:
        check_gradients("f", quadratic_loss, params, (np.clip(da, -1, 1), 2 * db), ["A", "b"])
    message = str(failure.value)
    assert "dA is wrong at index" in message and "; it is cut off at +-1" in message
    assert "db is wrong at index" in message and "; it is exactly 2 times the right one" in message
    def known():
        return {"is what the famous mistake gives": (da, 2 * db)}

    with pytest.raises(CheckFailure, match="db is wrong .*; it is what the famous mistake gives"):
        check_gradients("f", quadratic_loss, params, (da, 2 * db), ["A", "b"], known_mistakes=known)


def test_bptt_of_the_summed_loss_says_so_instead_of_blaming_a_step():
    rng = np.random.default_rng(11)
    xs, params = rng.normal(size=(4, 3)), (rng.normal(size=(3,)),)

    def loss_for_length(length):  # the mean over the steps of (w . x_t)^2
        return lambda p: float(np.mean((xs[:length] @ p[0]) ** 2))

    def grads_for_length(length):  # the gradient of the sum
        return (2 * xs[:length].T @ (xs[:length] @ params[0]),)

    with pytest.raises(CheckFailure) as failure:
        check_bptt("g", loss_for_length, grads_for_length, params, ["w"], num_steps=4, mean=True)
    message = str(failure.value)
    assert message.startswith("g: gradients go wrong on a sequence of 2 steps. dw is wrong")
    assert "exactly 2 times the right one, and 2 is the number of time steps" in message
    assert "dh_next" not in message


def test_a_failure_is_told_by_its_cause(tmp_path):
    """What a student reads: the check's message alone; an error of the notebook's code with
    its function and line; a stub's None; and a check that could not use a result."""
    def run(source, env):
        cell = compile(source, "<cell 3>", "exec")
        exec(cell, env)

    assert failure_message(CheckFailure("f: wrong at index 2.")) == "f: wrong at index 2."
    env = {}
    run("def backward(x):\n    return x[5]\n", env)

    def test_backward(backward):
        backward([1, 2])

    with pytest.raises(IndexError) as raised:
        test_backward(env["backward"])
    assert failure_message(raised.value, test_backward) == (
        "backward raised IndexError: list index out of range\n(in backward, line 2 of its cell)")

    def test_unpacking(forward):
        outputs, states = forward()

    with pytest.raises(TypeError) as raised:
        test_unpacking(lambda: None)
    assert "forward (or a notebook function it uses) is not implemented yet" in failure_message(
        raised.value, test_unpacking)

    def test_indexing(forward):
        forward()[3]

    with pytest.raises(IndexError) as raised:
        test_indexing(lambda: [1])
    assert failure_message(raised.value, test_indexing).startswith(
        "The check could not use what forward returned (IndexError: list index out of range)")
    assert RAISED_IN_KERNEL == remote.RAISED_IN_KERNEL  # named twice: remote.py also runs alone in a kernel
    from_kernel = ValueError('bad shape\n  (raised at:\n  File "/tmp/ipykernel_3/1.py", line 4, in step\n    x[2])')
    setattr(from_kernel, RAISED_IN_KERNEL, True)
    assert failure_message(from_kernel, test_indexing).startswith("step raised ValueError: bad shape")


def test_otter_shows_the_message_without_the_check_source(tmp_path):
    """``grader.check`` in a notebook: otter's own test files, with rnnlab's messages."""
    ExceptionTestFile = otter_test_files().ExceptionTestFile  # without the rest of otter: 1 s less

    path = tmp_path / "q1.py"
    path.write_text("from otter.test_files import test_case\n\nOK_FORMAT = False\nname = 'q1'\npoints = 1\n\n"
                    "@test_case(points=1, hidden=False)\ndef test_f(f):\n"
                    "    from rnnlab_checks import CheckFailure\n"
                    "    if f() != 2:\n        raise CheckFailure(f'f() returned {f()}, expected 2.')\n")
    test_file = ExceptionTestFile.from_file(str(path))
    test_file.run({"f": lambda: 3})
    (result,) = test_file.test_case_results
    assert result.message == "❌ Test case failed\nf() returned 3, expected 2."


def test_a_function_is_proven_only_where_every_question_taking_it_passed(tmp_path):
    from rnnlab_engine.checker import proven_functions, questions_taking

    (tmp_path / "q1.py").write_text("def test_a(env, forward, softmax):\n    pass\n")
    (tmp_path / "q2.py").write_text("def test_b(env, forward):\n    pass\ndef helper(backward):\n    pass\n")
    takers = questions_taking(tmp_path)
    assert takers == {"forward": {"q1", "q2"}, "softmax": {"q1"}}  # env and non-test functions left out
    assert proven_functions(takers, ["q1"]) == ["softmax"]
    assert proven_functions(takers, ["q1", "q2"]) == ["forward", "softmax"]
    assert proven_functions(takers, []) == []


@pytest.fixture
def a_reference(tmp_path, monkeypatch):
    """A reference solution where the checks look for one, with a ``piece`` that doubles."""
    package = tmp_path / "rnnlab_reference"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "solution.py").write_text("def piece(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("rnnlab_reference", "rnnlab_reference.solution"):
        sys.modules.pop(name, None)


def test_the_fast_path_uses_proven_pieces_and_the_confirming_path_decides_the_rest(a_reference, monkeypatch):
    from rnnlab_checks.reference import PROVEN_VARIABLE, judge_fastest_first

    env = {"piece": lambda x: 3 * x}  # the student's own, wrong
    seen = []

    def check(pieces):
        with pieces():
            value = env["piece"](1)
        seen.append(value)
        if value != 2:
            raise CheckFailure(f"got {value}")

    monkeypatch.setenv(PROVEN_VARIABLE, "")
    judge_fastest_first(env, ["piece"], check)  # nothing proven: the reference's piece alone
    assert seen == [2]
    monkeypatch.setenv(PROVEN_VARIABLE, "piece,other")
    seen.clear()
    judge_fastest_first(env, ["piece"], check)  # the fast path failed: the confirming path's verdict
    assert seen == [3, 2]
    env["piece"] = lambda x: x + 1  # the student's own, right at 1
    seen.clear()
    judge_fastest_first(env, ["piece"], check)  # a pass on the fast path stands
    assert seen == [2]
    env["piece"] = lambda x: 3 * x

    def never_passes(pieces):
        with pieces():
            raise CheckFailure(f"got {env['piece'](1)}")

    with pytest.raises(CheckFailure, match="got 2"):  # both failed: the confirming path's message
        judge_fastest_first(env, ["piece"], never_passes)
    assert env["piece"](1) == 3  # the student's globals are put back


def test_in_a_notebook_the_students_own_pieces_are_judged(monkeypatch):
    from rnnlab_checks.reference import PROVEN_VARIABLE, judge_fastest_first

    monkeypatch.setenv(PROVEN_VARIABLE, "")
    env = {"piece": lambda x: 3 * x}

    def never_passes(pieces):
        with pieces():
            raise CheckFailure(f"got {env['piece'](1)}")

    with pytest.raises(CheckFailure, match="got 3"):  # no reference to swap in: the student's own
        judge_fastest_first(env, ["piece"], never_passes)
