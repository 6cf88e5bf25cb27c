"""Every buggy variant of each lab's catalogue loses points on its own question, with its
message; every test case of a lab fails for at least one variant; the reference and the
lab's correct rewrites get full marks.

The catalogue is checked in process (``rnnlab.authoring.in_process``: the zip's tests,
checks, reference and fixtures, without the engine's kernel and isolation), which gives
grading's verdict per case in half the time, and a variant takes the reference's verdict of
each case that never ran the one cell it changes (``Trace``); the engine itself grades the reference and
variants in test_grading, test_batch and test_tampering, and ``rnnlab verify LAB`` puts the
whole catalogue through it on every CPU profile.
"""

from contextlib import ExitStack

import pytest

from rnnlab.authoring.in_process import check_in_process, trace_in_process, warm_up
from rnnlab.authoring.labs import available_labs, load_lab
from rnnlab.authoring.variants import alternatives, buggy_notebook, catalogue, write_catalogue
from rnnlab_checks.feedback import CHECK_CRASHED
from rnnlab_engine.grading import graded_cells, unpacked

CASES = [(lab, variant) for lab in available_labs() for variant in catalogue(lab)]
# The reference, and one notebook with all of a lab's correct rewrites at once.
CORRECT = ([(lab, "reference") for lab in available_labs()]
           + [(lab, "rewritten") for lab in available_labs() if alternatives(lab)])


@pytest.fixture(scope="session")
def checked(build, once, tmp_path_factory):
    """``checked(lab, name)``: the reference ('reference'), the rewrites ('rewritten') or the
    variant ``name`` of ``lab`` checked once in the session, by whichever worker asks first;
    with ``trace=True``, the reference's ``(result, Trace)``, which the others reuse."""
    with ExitStack() as stack:
        autograders, notebooks = {}, {}

        def get(lab, name, trace=False, reuse=True):
            if lab not in autograders:
                built = build(lab)
                try:  # every notebook written first: a variant that no longer applies fails once, here
                    notebooks[lab] = write_catalogue(lab, built.solution_notebook,
                                                     tmp_path_factory.mktemp(f"variants-{lab}"))
                except ValueError as error:
                    pytest.fail(f"the catalogue of {lab} does not apply to its solution: {error}")
                autograders[lab] = stack.enter_context(unpacked(built.autograder_zip))
                warm_up(autograders[lab])
            if name == "reference" or trace:
                traced = once(f"traced-{lab}", lambda: trace_in_process(autograders[lab], notebooks[lab]["reference"]))
                return traced if trace else traced[0]
            if not reuse:  # the whole check, reusing nothing
                return check_in_process(autograders[lab], notebooks[lab][name])
            return once(f"checked-{lab}-{name}", lambda: check_in_process(
                autograders[lab], notebooks[lab][name], reference=get(lab, "reference", trace=True)[1]))

        yield get


@pytest.mark.parametrize("lab", available_labs())
def test_catalogue_is_large_enough(lab):
    variants = catalogue(lab)
    assert len(variants) >= 10
    assert len({v.name for v in variants}) == len(variants)


@pytest.mark.slow
@pytest.mark.parametrize("lab,variant", CASES, ids=[f"{lab}-{v.name}" for lab, v in CASES])
def test_variant_loses_points_on_its_question_only(checked, lab, variant):
    result = checked(lab, variant.name)
    lost = {q.name for q in result.questions if q.score < q.possible}
    assert lost == {variant.question, *variant.also}, f"points lost on {lost}"
    question = next(q for q in result.questions if q.name == variant.question)
    assert variant.message in question.output, question.output
    crashed = [q.output for q in result.questions if CHECK_CRASHED in q.output.lower()]
    assert crashed == [], "a check crashed on what the student's code gave it"


@pytest.mark.slow
@pytest.mark.parametrize("lab,kind", CORRECT, ids=[f"{lab}-{kind}" for lab, kind in CORRECT])
def test_correct_code_gets_full_marks(checked, lab, kind):
    result = checked(lab, kind)
    assert (result.status, result.score) == ("ok", result.possible), [q.output for q in result.questions]


@pytest.mark.slow
@pytest.mark.parametrize("lab", available_labs())
def test_every_test_case_fails_for_some_variant(checked, lab):
    failed = {(q.name, case) for variant in catalogue(lab)
              for q in checked(lab, variant.name).questions for case in q.failed_cases}
    every = {(q.name, t.name) for q in load_lab(lab).questions.values() for t in q.tests}
    assert sorted(every - failed) == []


@pytest.mark.slow
@pytest.mark.parametrize("lab", available_labs())
def test_a_reused_verdict_is_the_one_the_case_gives(checked, build, lab):
    """The variant that reuses the most of the reference's verdicts, checked whole: the same
    result, case by case."""
    _, trace = checked(lab, "reference", trace=True)
    solution = build(lab).solution_notebook
    reused = {v.name: len(trace.reusable(graded_cells(buggy_notebook(solution, v)))) for v in catalogue(lab)}
    most = max(reused, key=reused.get)
    assert reused[most] > 0, f"no variant of {lab} reuses a verdict"
    with_reuse, whole = checked(lab, most), checked(lab, most, reuse=False)
    assert [(q.name, q.score, q.output) for q in with_reuse.questions] == [(q.name, q.score, q.output)
                                                                           for q in whole.questions]
