"""Every buggy variant of each lab's catalogue loses points on its own question, with its
message; every test case of a lab fails for at least one variant; the reference and the
lab's correct rewrites get full marks."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.grading import unpacked
from autograder.labs import available_labs, load_lab
from autograder.variants import alternatives, catalogue, write_catalogue

# Under pytest-xdist, the tests of one lab run on one worker (tests/conftest.py): their ids
# start with the lab's name.
CASES = [(lab, variant) for lab in available_labs() for variant in catalogue(lab)]
# The reference, and one notebook with all of a lab's correct rewrites at once.
CORRECT = ([(lab, "reference") for lab in available_labs()]
           + [(lab, "rewritten") for lab in available_labs() if alternatives(lab)])
# Two at a time fill a 2-core box; under pytest-xdist the other worker grades too.
PARALLEL_GRADINGS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2


@pytest.fixture(scope="module")
def graded(build, tmp_path_factory):
    """``graded(lab)``: the reference, the catalogue and the rewrites of ``lab`` graded once,
    ``PARALLEL_GRADINGS`` at a time; keyed by variant name, 'reference' and 'rewritten'."""
    results = {}

    def get(lab):
        if lab not in results:
            built = build(lab)
            try:  # every notebook written first: a variant that no longer applies fails once, here
                paths = write_catalogue(lab, built.solution_notebook, tmp_path_factory.mktemp(f"variants-{lab}"))
            except ValueError as error:
                results[lab] = f"the catalogue of {lab} does not apply to its solution: {error}"
            else:
                with unpacked(built.autograder_zip) as autograder, ThreadPoolExecutor(PARALLEL_GRADINGS) as pool:
                    results[lab] = dict(zip(paths, pool.map(autograder.grade, paths.values())))
        if isinstance(results[lab], str):
            pytest.fail(results[lab])
        return results[lab]

    return get


@pytest.mark.parametrize("lab", available_labs())
def test_catalogue_is_large_enough(lab):
    variants = catalogue(lab)
    assert len(variants) >= 10
    assert len({v.name for v in variants}) == len(variants)


@pytest.mark.slow
@pytest.mark.parametrize("lab,variant", CASES, ids=[f"{lab}-{v.name}" for lab, v in CASES])
def test_variant_loses_points_on_its_question_only(graded, lab, variant):
    result = graded(lab)[variant.name]
    lost = {q.name for q in result.questions if q.score < q.possible}
    assert lost == {variant.question}, f"points lost on {lost}"
    question = next(q for q in result.questions if q.name == variant.question)
    assert variant.message in question.output, question.output


@pytest.mark.slow
@pytest.mark.parametrize("lab,kind", CORRECT, ids=[f"{lab}-{kind}" for lab, kind in CORRECT])
def test_correct_code_gets_full_marks(graded, lab, kind):
    result = graded(lab)[kind]
    assert (result.status, result.score) == ("ok", result.possible), [q.output for q in result.questions]


@pytest.mark.slow
@pytest.mark.parametrize("lab", available_labs())
def test_every_test_case_fails_for_some_variant(graded, lab):
    buggy = {v.name for v in catalogue(lab)}
    failed = {(q.name, case) for name, result in graded(lab).items() if name in buggy
              for q in result.questions for case in q.failed_cases}
    every = {(q.name, t.name) for q in load_lab(lab).questions.values() for t in q.tests}
    assert sorted(every - failed) == []
