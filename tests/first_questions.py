"""``rnn_lstm_numpy`` cut to its first questions, which the engine's own tests (limits,
crashes, isolation) and the hostile-batch benchmark grade: the zip without the tests of the
later ones, and the solution notebook without their cells (the training runs).  The same zip
format, engine, kernel, checker and checks as a whole grading, in a third of the time."""

import zipfile

import nbformat

ENGINE_QUESTIONS = ("q1", "q2", "q3", "q4", "q5", "q6")
FIRST_CUT_CELL = "def train_rnn("


def first_questions_zip(autograder_zip, target):
    """Write to ``target`` the autograder zip with the tests of ``ENGINE_QUESTIONS`` only."""
    kept = {f"tests/{q}.py" for q in ENGINE_QUESTIONS}
    with zipfile.ZipFile(autograder_zip) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if not item.filename.startswith("tests/") or item.filename in kept:
                out.writestr(item, source.read(item))
    return target


def first_questions_notebook(solution_notebook, target):
    """Write to ``target`` the solution notebook up to the cell of the first question cut."""
    notebook = nbformat.read(solution_notebook, as_version=4)
    cut = next(i for i, cell in enumerate(notebook.cells) if FIRST_CUT_CELL in cell.source)
    notebook.cells = notebook.cells[:cut]
    nbformat.write(notebook, target)
    return target
