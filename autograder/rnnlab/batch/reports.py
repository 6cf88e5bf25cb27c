"""What grades become: results.json and a feedback page per submission, a summary page for
the course staff, and a console table (the gradebooks are in ``gradebooks``).  Every file is
written atomically."""

import base64
import io
import json
import os
import re
import tempfile
from collections import Counter
from html import escape
from pathlib import Path

from .manual import given_scores, merged_questions, totals

PAGE_STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}
.fail{background:#fde8e8}.pass{background:#e8f6e8}pre{white-space:pre-wrap;background:#f6f6f6;padding:.6em}
.nowrap{white-space:nowrap}"""


def write_atomically(path, data):
    """Write text or bytes to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data.encode() if isinstance(data, str) else data)
    os.replace(temporary, path)


def write_submission(out, result):
    """``out/<id>/results.json``, ``feedback.html`` and the notebook's plots as PNG files; the
    plots of a result it replaces (kept in the submission's history first, see ``history``)
    that this one has not are removed, lest the folder show them as this result's."""
    folder = Path(out) / result.submission
    plots = []
    for index, image in enumerate(result.images):
        name = f"plot-{index + 1}.png"
        write_atomically(folder / name, base64.b64decode(image))
        plots.append(name)
    write_atomically(folder / "feedback.html", feedback_page(result, plots))
    write_results_json(out, result)
    for stale in folder.glob("plot-*.png"):
        if stale.name not in plots:
            stale.unlink()


def write_results_json(out, result):
    """``out/<id>/results.json``: Gradescope's schema, with the scores given by hand merged."""
    write_atomically(Path(out) / result.submission / "results.json", json.dumps(result.to_gradescope(), indent=2))


def feedback_page(result, plots):
    """The student's page: scores per question, every failing check with its message, plots."""
    rows = "".join(
        f'<tr class="{"pass" if q.score >= q.possible else "fail"}"><td>{escape(q.name)}</td>'
        f"<td>{q.score:g} / {q.possible:g}</td><td>{escape(q.status)}</td></tr>" for q in result.questions)
    failures = "".join(f"<h3>{escape(q.name)}: {q.score:g} / {q.possible:g}</h3><pre>{escape(q.output)}</pre>"
                       for q in result.questions if q.score < q.possible)
    notes = "".join(f"<li>{escape(m)}</li>" for m in result.messages)
    images = "".join(f'<img src="{escape(p)}" alt="plot from the notebook" width="480">' for p in plots)
    written = "".join(f"<h3>{escape(w['name'])} ({w['points']:g} pts)</h3><p>{escape(w['prompt'])}</p>"
                      f"<pre>{escape(w['answer'] or '(no answer)')}</pre>" for w in result.written)
    return _page(f"Feedback: {result.submission}", f"""
<p>Score: <b>{result.score:g} / {result.possible:g}</b> ({escape(result.status)})</p>
{f"<h2>What happened while grading</h2><ul>{notes}</ul>" if notes else ""}
<h2>Questions</h2><table><tr><th>question</th><th>score</th><th>status</th></tr>{rows}</table>
<h2>Failing checks</h2>{failures or "<p>None: every check passed.</p>"}
{f"<h2>Written answers (graded by hand, not in this score)</h2>{written}" if written else ""}
{f"<h2>Your plots</h2>{images}" if images else ""}""")


def write_summary(out, results, regrade=None):
    """``out/summary.html``: score histogram, per-question pass rate, most common failures,
    and what the regrade changed (``regrade``, a ``history.Regrade``; no such section without
    one)."""
    if not results:
        return
    names = [q.name for q in results[0].questions]
    rates = "".join(
        f"<tr><td>{escape(n)}</td><td>{sum(r.questions[i].score >= r.questions[i].possible for r in results)}"
        f" / {len(results)}</td></tr>" for i, n in enumerate(names))
    common = Counter(failure_key(q) for r in results for q in r.questions if q.score < q.possible)
    failures = "".join(f"<tr><td>{count}</td><td><pre>{escape(text)}</pre></td></tr>"
                       for text, count in common.most_common(10))
    statuses = Counter(r.status for r in results)
    body = f"""
<p>{len(results)} submissions; mean score {sum(r.score for r in results) / len(results):.2f} /
{results[0].possible:g}; status: {escape(", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))}</p>
<h2>Scores</h2><img alt="score histogram" src="data:image/png;base64,{histogram([r.score for r in results], results[0].possible)}">
<h2>Pass rate per question</h2><table><tr><th>question</th><th>full marks</th></tr>{rates}</table>
<h2>Most common failures</h2><table><tr><th>count</th><th>question and message</th></tr>{failures}</table>
{regrade_section(regrade) if regrade is not None else ""}"""
    write_atomically(Path(out) / "summary.html", _page("Grading summary", body))


def regrade_section(regrade):
    """The summary's "Changed by the regrade": each submission whose score changed, its total
    old -> new, and per question its points old -> new with the message of a check that now
    fails ("-": a question the new zip added or removed)."""
    rows = []
    for change in regrade.changes:
        who = escape(change.submission + (f" ({change.student['name']})" if change.student.get("name") else ""))
        span = len(change.questions)
        for index, q in enumerate(change.questions):
            lead = (f'<td rowspan="{span}">{who}</td><td rowspan="{span}" class="nowrap">{change.old_total:g} &rarr; '
                    f"{change.new_total:g}</td>") if index == 0 else ""
            points = f"{_points(q.old)} &rarr; {_points(q.new)} / {q.possible:g}"
            failing = f"<pre>{escape(q.message)}</pre>" if q.message else ""
            rows.append(f'<tr class="{"fail" if q.message else ""}">{lead}<td>{escape(q.question)}</td>'
                        f'<td class="nowrap">{points}</td><td>{failing}</td></tr>')
    told = (f"<p>{len(regrade.changes)} of {regrade.compared} submission{'' if regrade.compared == 1 else 's'} graded "
            "before with another autograder zip changed score (each question in regrade.csv).</p>")
    table = ("<table><tr><th>submission</th><th>total</th><th>question</th><th>points</th><th>now failing</th></tr>"
             f"{''.join(rows)}</table>") if rows else "<p>No score changed.</p>"
    return f"<h2>Changed by the regrade</h2>{told}{table}"


def _points(points):
    return "-" if points is None else f"{points:g}"


def failure_key(question):
    """The first failing check's last line with its numbers masked, so that the same mistake
    counts once however the numbers differ."""
    block, inside = [], False
    for line in question.output.splitlines():
        if line.startswith(("PASS ", "FAIL ")):
            if inside:
                break
            inside = line.startswith("FAIL ")
        elif inside and line.strip():
            block.append(line.strip())
    text = block[-1] if block else (question.output.strip().splitlines() or [question.status])[-1]
    return f"{question.name}: " + re.sub(r"-?\d+\.\d+(e-?\d+)?", "#", text)


def histogram(scores, possible):
    """A PNG histogram of the scores, base64-encoded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3))
    axes.hist(scores, bins=min(20, max(1, int(possible))), range=(0, possible), color="#4a7ab5")
    axes.set_xlabel("score")
    axes.set_ylabel("submissions")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _page(title, body):
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{PAGE_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")


def score_table(results):
    """A plain-text table: one row per submission, one column per question (and per question
    graded by hand, once scores are merged)."""
    if not results:
        return "no submissions"
    names = [q.name for q in results[0].questions]
    manual = merged_questions(results)
    header = ["submission"] + names + [name for name, _ in manual] + ["total", "status"]
    rows = []
    for r in results:
        given, (score, possible) = given_scores(r), totals(r, manual)
        rows.append([r.submission] + [f"{q.score:g}/{q.possible:g}" for q in r.questions]
                    + [f"{given[name]:g}/{points:g}" if name in given else "-" for name, points in manual]
                    + [f"{score:g}/{possible:g}", r.status])
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [header] + rows)


def failure_summary(result):
    """The failing checks of one submission, for the console."""
    lines = list(result.messages)
    for q in result.questions:
        if q.score < q.possible:
            lines.append(f"{q.name} ({q.score:g}/{q.possible:g}):")
            lines.extend("  " + line for line in q.output.splitlines() if line.strip())
    return "\n".join(lines)
