"""Every buggy variant of the catalogue loses points on its own question, with its message,
and every test case of the lab fails for at least one variant."""

from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from autograder.grading import grade_submission
from autograder.labs import load_lab
from autograder.variants import buggy_notebook, catalogue

LAB = "rnn_lstm_numpy"
VARIANTS = catalogue(LAB)


@pytest.fixture(scope="module")
def graded_variants(built, solution_notebook, tmp_path_factory):
    """Grade the whole catalogue once, two submissions at a time (one per core)."""
    folder = tmp_path_factory.mktemp("variants")

    def grade(variant):
        path = folder / f"{variant.name}.ipynb"
        nbformat.write(buggy_notebook(solution_notebook, variant), path)
        return variant.name, grade_submission(built.autograder_zip, path)

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(grade, VARIANTS))


def test_catalogue_is_large_enough():
    assert len(VARIANTS) >= 10
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant_loses_points_on_its_question_only(graded_variants, variant):
    result = graded_variants[variant.name]
    lost = {q.name for q in result.questions if q.score < q.possible}
    assert lost == {variant.question}, f"points lost on {lost}"
    question = next(q for q in result.questions if q.name == variant.question)
    assert variant.message in question.output, question.output


def test_every_test_case_fails_for_some_variant(graded_variants):
    failed = {(q.name, case) for result in graded_variants.values()
              for q in result.questions for case in q.failed_cases}
    every = {(q.name, t.name) for q in load_lab(LAB).questions.values() for t in q.tests}
    assert every - failed == set()
