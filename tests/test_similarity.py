"""rnnlab similarity: a copy, disguised, ranks above every pair of independently written
submissions; known solutions are compared with each submission; what cannot be read is told."""

import csv
import zipfile

import nbformat
import pytest
from disguises import ROOT, disguised, function_sources, implementations, notebook_with, renamed

from rnnlab.authoring.labs import available_labs
from rnnlab.authoring.variants import alternatives
from rnnlab.cli import main
from rnnlab.similarity.compare import MIN_SHARE, compare
from rnnlab.similarity.index import Pair, shared_passages
from rnnlab.similarity.report import highlighted
from rnnlab.similarity.sources import OTHER, StudentCode, read_template

LAB = "char_rnn_numpy"


def write(folder, name, notebook):
    folder.mkdir(exist_ok=True)
    nbformat.write(notebook, folder / f"{name}.ipynb")


@pytest.fixture
def cohort(tmp_path):
    """The reference and the independent implementations of the lab, each handed in by one
    student, and a disguised copy of each handed in by another."""
    folder = tmp_path / "submissions"
    for seed, (style, functions) in enumerate(implementations(LAB).items()):
        write(folder, style, notebook_with(LAB, functions))
        write(folder, f"copy_of_{style}", notebook_with(LAB, disguised(functions, seed), one_cell=True))
    return folder


def test_a_disguised_copy_ranks_above_every_pair_of_independent_submissions(cohort, tmp_path):
    found = compare(LAB, [cohort], tmp_path / "out", min_share=0.0, progress=False)
    ranked = found.ranked()
    styles = sorted(implementations(LAB))
    assert len(styles) >= 3, "the reference and at least two independent implementations"
    copies = {tuple(sorted((a, b))) for a, b, _ in ranked[:len(styles)]}
    assert copies == {(f"copy_of_{s}", s) for s in styles}
    # Calibrated on this cohort: copies 0.972 to 1.0, independent pairs 0.022 to 0.040.
    assert min(share for _, _, share in ranked[:len(styles)]) >= 0.9
    independent = [share for a, b, share in ranked if a.removeprefix("copy_of_") != b.removeprefix("copy_of_")]
    assert max(independent) < MIN_SHARE / 2


def test_only_pairs_at_the_minimum_share_are_listed_and_the_page_shows_them_side_by_side(cohort, tmp_path):
    out = tmp_path / "out"
    found = compare(LAB, [cohort], out, progress=False)
    assert len(found.pairs) == 3 and all(p.share >= MIN_SHARE for p in found.pairs)
    rows = list(csv.DictReader((out / "similarity.csv").open()))
    assert [(r["rank"], r["other_is_known_solution"]) for r in rows] == [("1", "no"), ("2", "no"), ("3", "no")]
    assert {frozenset((r["submission"], r["other"])) for r in rows} == {
        frozenset((s, f"copy_of_{s}")) for s in implementations(LAB)}
    page = (out / "similarity.html").read_text()
    assert page.count('id="pair-') == 3 and "<mark>" in page
    for section in ("build_vocabulary", "backward", "train"):
        assert f"<th colspan=2>{section}</th>" in page
    assert "not a verdict" in page


def test_a_copy_of_a_known_solution_is_found_and_known_solutions_are_not_paired(tmp_path):
    styles = implementations(LAB)
    known = tmp_path / "from-the-web"
    (known / "blog").mkdir(parents=True)
    script = "\n\n\n".join(reversed(list(styles["loops"].values())))
    (known / "blog" / "min_char_rnn.py").write_text(script + "\n\nif __name__ == '__main__':\n    print(train)\n")
    write(known, "last_year", notebook_with(LAB, styles["vectorised"]))
    submissions = tmp_path / "submissions"
    write(submissions, "dana", notebook_with(LAB, {n: renamed(s, 7) for n, s in styles["loops"].items()}))
    write(submissions, "eli", notebook_with(LAB, styles["reference"]))
    found = compare(LAB, [submissions], tmp_path / "out", against=known, progress=False)
    assert [(a, b) for a, b, _ in found.ranked()] == [("dana", "blog/min_char_rnn.py")]
    assert found.pairs[0].share_first == 1.0  # all of dana's code is in the script
    assert "dana (known solution)" not in (tmp_path / "out" / "similarity.html").read_text()


def test_the_reference_with_the_catalogues_correct_rewrites_still_shares_most_of_its_code(tmp_path):
    """The catalogue's correct alternatives are small edits of the reference: a copy edited
    so is still found."""
    reference = function_sources(ROOT / "solutions" / f"{LAB}.py")
    source = "\n\n\n".join(reference.values())
    for alternative in alternatives(LAB):
        for find, replace in alternative.edits():
            source = source.replace(find, replace, 1)
    folder = tmp_path / "submissions"
    write(folder, "reference", notebook_with(LAB, reference))
    write(folder, "rewritten", notebook_with(LAB, function_sources_of(source, tmp_path)))
    found = compare(LAB, [folder], tmp_path / "out", progress=False)
    assert [(a, b) for a, b, _ in found.ranked()] == [("reference", "rewritten")]
    # 0.496 measured: 16 rewrites in 12 functions, each breaking the passages around it.
    assert found.pairs[0].share >= 0.4


def function_sources_of(source, tmp_path):
    path = tmp_path / "rewritten.py"
    path.write_text(source)
    return function_sources(path)


@pytest.mark.parametrize("lab", available_labs())
def test_every_labs_template_is_no_ones_code_and_a_disguised_reference_is_found(lab, tmp_path):
    template = read_template(lab)
    assert template.stubbed, f"{lab}: the template stubs no function"
    reference = {n: s for n, s in function_sources(ROOT / "solutions" / f"{lab}.py").items() if n in template.stubbed}
    assert sorted(reference) == sorted(template.stubbed)
    folder = tmp_path / "submissions"
    write(folder, "ada", notebook_with(lab, reference))
    write(folder, "bo", notebook_with(lab, disguised(reference, 1), one_cell=True))
    write(folder, "cy", notebook_with(lab, {}))
    write(folder, "di", notebook_with(lab, {}))
    found = compare(lab, [folder], tmp_path / "out", min_share=0.0, progress=False)
    assert [(a, b) for a, b, _ in found.ranked()] == [("ada", "bo")] and found.pairs[0].share >= 0.9
    assert [c.sections for c in found.codes if c.id in ("cy", "di")] == [{}, {}]
    assert list(found.codes[0].sections) == template.stubbed


def test_what_cannot_be_read_is_told_and_a_hand_in_zip_is_read(tmp_path):
    folder = tmp_path / "submissions"
    functions = implementations(LAB)["loops"]
    write(folder, "fay", notebook_with(LAB, functions))
    (folder / "gus.ipynb").write_text("{not json")
    with zipfile.ZipFile(folder / "hal.zip", "w") as archive:
        archive.writestr(f"{LAB}.ipynb", nbformat.writes(notebook_with(LAB, functions)))
    helper = {"_my_helper": "def _my_helper(x):\n    return [v * 2 for v in x if v > 0]\n"}
    write(folder, "ivy", notebook_with(LAB, {**helper, **functions}))
    found = compare(LAB, [folder], tmp_path / "out", progress=False)
    assert {frozenset(p) for p in [(a, b) for a, b, _ in found.ranked()]} == {
        frozenset(p) for p in [("fay", "hal"), ("fay", "ivy"), ("hal", "ivy")]}
    codes = {c.id: c for c in found.codes}
    assert "not a valid Jupyter notebook" in codes["gus"].problem and not codes["gus"].sections
    assert OTHER in codes["ivy"].sections and "_my_helper" in codes["ivy"].sections[OTHER]
    assert "gus: gus.ipynb is not a valid Jupyter notebook" in (tmp_path / "out" / "similarity.html").read_text()


def test_rnnlab_similarity_on_the_command_line(cohort, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["similarity", LAB, str(cohort), "--out", str(out), "--min-share", "0.5"]) == 0
    said = capsys.readouterr().out
    assert "3 pairs share 50% or more" in said and str(out / "similarity.html") in said
    assert len(list(csv.DictReader((out / "similarity.csv").open()))) == 3
    assert main(["similarity", LAB, str(cohort), "--against", str(tmp_path / "nowhere")]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_highlighted_marks_only_the_passages_inside_the_section():
    text = "abcdefghij"
    html, covered = highlighted(text, 2, 8, ([0, 6], [4, 12]))
    assert html == "<mark>cd</mark>ef<mark>gh</mark>" and covered == pytest.approx(4 / 6)


def test_ipython_magics_and_statements_sharing_a_line_are_read_as_ipython_runs_them(tmp_path):
    """A copy whose cells start with ``%matplotlib inline`` is still a whole copy, and a
    template with magics added is still no one's code."""
    functions = implementations(LAB)["loops"]
    folder = tmp_path / "submissions"
    with_magics = notebook_with(LAB, functions)
    for cell in with_magics.cells:
        if cell.cell_type == "code":
            cell.source = "%matplotlib inline\n!echo hi\n" + cell.source
    write(folder, "jo", with_magics)
    write(folder, "kim", notebook_with(LAB, functions))
    template_with_magics = notebook_with(LAB, {})
    template_with_magics.cells.insert(1, nbformat.v4.new_code_cell("%load_ext autoreload\nlosses = []; steps = 0"))
    write(folder, "lee", template_with_magics)
    found = compare(LAB, [folder], tmp_path / "out", min_share=0.0, progress=False)
    assert [(a, b, share) for a, b, share in found.ranked()] == [("jo", "kim", 1.0)]
    lee = next(c for c in found.codes if c.id == "lee")
    assert lee.sections == {OTHER: "get_ipython().run_line_magic('load_ext', 'autoreload')\nlosses = []\nsteps = 0"}


@pytest.mark.parametrize("content,told", [('{"nbformat": 3, "cells": []}', "is not a Jupyter notebook in nbformat 4"),
                                          ("{}", "is not a Jupyter notebook in nbformat 4"),
                                          ("[]", "is not a Jupyter notebook in nbformat 4"),
                                          ("null", "is not a Jupyter notebook in nbformat 4"), ("", "is empty")])
def test_a_notebook_that_is_not_nbformat_4_is_told_and_the_others_compared(tmp_path, content, told):
    """Read and told as grading reads and tells it (``rnnlab_engine.grading``)."""
    folder = tmp_path / "submissions"
    functions = implementations(LAB)["loops"]
    write(folder, "max", notebook_with(LAB, functions))
    write(folder, "ned", notebook_with(LAB, functions))
    (folder / "old.ipynb").write_text(content)
    found = compare(LAB, [folder], tmp_path / "out", progress=False)
    assert [(a, b) for a, b, _ in found.ranked()] == [("max", "ned")]
    assert f"old.ipynb {told}" in next(c for c in found.codes if c.id == "old").problem


def test_an_identical_pair_is_highlighted_whole_in_every_section(tmp_path):
    folder = tmp_path / "submissions"
    body = "(first, second):\n    return np.tanh(first @ second + first @ second, out=None, where=True)\n"
    functions = {**implementations(LAB)["loops"], "_one": f"def _one{body}", "_two": f"def _two{body}"}
    write(folder, "ora", notebook_with(LAB, functions))
    write(folder, "pat", notebook_with(LAB, functions))
    found = compare(LAB, [folder], tmp_path / "out", progress=False)
    page = (tmp_path / "out" / "similarity.html").read_text()
    shares = [line.split("%")[0].rsplit(">", 1)[-1] for line in page.split('<p class="note">')[1:]
              if " shared</p>" in line.split("<pre>")[0]]
    assert len(shares) == 2 * len(found.codes[0].sections) == 26 and set(shares) == {"100"}


def test_a_passage_repeated_in_a_submission_is_highlighted_at_each_place():
    body = "def g(a):\n    return foo(bar, baz, qux, quux, a, b, c, d)\n\ndef h(a):\n    return foo(bar, baz, qux, quux, a, b, c, d)"
    codes = [StudentCode("x", {OTHER: body}), StudentCode("y", {OTHER: body})]
    for boilerplate in (frozenset(), frozenset([1])):
        [(marks, _)] = shared_passages([Pair(0, 1, 1, 1.0, 1.0)], codes, boilerplate)
        assert highlighted(body, 0, len(body), marks)[1] == 1.0
