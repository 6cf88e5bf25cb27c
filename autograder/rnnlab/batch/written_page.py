"""``written-answers.html``: the course staff's page for grading the written answers of a
batch by hand.  One section per submission (who, when known), each written answer with its
prompt and the reference answer, and a score box; a button downloads the scores as
``manual-scores.csv`` for ``rnnlab grade ... --manual``.  The page is self-contained (inline
style and script, nothing fetched), and prints one submission per page, so that printed to
PDF it is the grading record too."""

import json
from html import escape
from pathlib import Path

from rnnlab_engine.grading import REFERENCE_ANSWER

from .manual import COLUMNS
from .reports import write_atomically

PAGE_NAME = "written-answers.html"
SCORES_NAME = "manual-scores.csv"

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em;margin:.3em 0}
pre.reference{background:#eef4fb}.who{color:#555;font-weight:normal}
section.submission{border-top:2px solid #888;margin-top:2em}
.question{margin:1em 0 1.5em}.score input{width:5em;font-size:1em}
@media print{
  body{max-width:none;margin:0}.controls{display:none}
  section.submission{border:none;margin:0;break-after:page}
  section.submission:last-of-type{break-after:auto}
  .question{break-inside:avoid}pre{border:1px solid #ccc;background:none}
  .score input{border:none;border-bottom:1px solid #000}
}"""

# The scores, one CSV row per box (blank ones too: "not scored yet"), every field quoted so
# that a submission's name can hold any character; the download refuses a box the browser
# finds invalid (outside 0 to its points).
SCRIPT = """
function manualScoresCsv() {
  const quote = (text) => '"' + String(text).replace(/"/g, '""') + '"';
  const rows = [%(header)s];
  for (const box of document.querySelectorAll("input.score")) {
    rows.push([box.dataset.submission, box.dataset.question, box.value].map(quote).join(","));
  }
  return rows.join("\\r\\n") + "\\r\\n";
}
function downloadManualScores() {
  const invalid = Array.from(document.querySelectorAll("input.score")).filter((box) => !box.checkValidity());
  if (invalid.length) {
    invalid[0].reportValidity();
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([manualScoresCsv()], {type: "text/csv"}));
  link.download = %(file)s;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
document.getElementById("download").addEventListener("click", downloadManualScores);
""" % {"header": json.dumps(",".join(COLUMNS)), "file": json.dumps(SCORES_NAME)}


def write_written_answers_page(out, lab, results, questions):
    """``out/written-answers.html`` for ``results``, when the lab has questions graded by hand
    (``questions``, with their reference answers); returns its path, or None."""
    if not questions or not results:
        return None
    path = Path(out) / PAGE_NAME
    write_atomically(path, written_answers_page(lab, results, questions))
    return path


def written_answers_page(lab, results, questions):
    """The page's HTML."""
    sections = "".join(_submission_section(result, questions) for result in results)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Written answers: {escape(lab)}</title>'
            f"<style>{STYLE}</style></head><body>"
            f'<h1>Written answers: {escape(lab)}</h1><div class="controls">'
            f"<p>{len(results)} submissions. Score each answer (0 to its points), then "
            f'<button type="button" id="download">Download {SCORES_NAME}</button> and merge it with '
            f"<code>rnnlab grade {escape(lab)} ... --manual {SCORES_NAME}</code>. Boxes left blank stay "
            f"unscored. Printed, the page gives one submission per page.</p></div>"
            f"{sections}<script>{SCRIPT}</script></body></html>")


def _submission_section(result, questions):
    """One submission: who, then each question graded by hand with its answer and score box."""
    who = ", ".join(escape(v) for v in (result.student.get(k, "") for k in ("name", "email", "sid")) if v)
    answers = {written["name"]: written for written in result.written}
    blocks = []
    for question in questions:
        written = answers.get(question["name"], {})
        answer = written.get("answer") or ("(no answer)" if written else f"(no answer: the submission was "
                                                                          f"not graded, {result.status})")
        score = f"{written['score']:g}" if "score" in written else ""
        box = (f'<input type="number" class="score" min="0" max="{question["points"]:g}" step="any" '
               f'name="{escape(result.submission)}/{escape(question["name"])}" value="{score}" '
               f'data-submission="{escape(result.submission)}" data-question="{escape(question["name"])}">')
        blocks.append(f'<div class="question"><h3>{escape(question["name"])} ({question["points"]:g} pts)</h3>'
                      f'<p class="prompt">{escape(question["prompt"])}</p>'
                      f'<h4>Reference answer</h4><pre class="reference">{escape(question[REFERENCE_ANSWER] or "(none)")}</pre>'
                      f'<h4>Answer</h4><pre class="answer">{escape(answer)}</pre>'
                      f'<label class="score">Score {box} / {question["points"]:g}</label></div>')
    return (f'<section class="submission" id="submission-{escape(result.submission)}">'
            f'<h2>{escape(result.submission)}{f" <span class=who>({who})</span>" if who else ""}</h2>'
            f'{"".join(blocks)}</section>')
