"""``similarity.csv`` and ``similarity.html``: the pairs, largest share first, for a person to
read; each shown pair side by side, section by section, its shared passages highlighted."""

import csv
import io
from html import escape
from pathlib import Path

from ..batch.reports import write_atomically

PAGE_STYLE = """body{font-family:sans-serif;max-width:90em;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}
.side{width:50%}pre{white-space:pre-wrap;margin:0;font-size:.85em}mark{background:#ffd98a}
details{margin:.6em 0}summary{cursor:pointer}.note{color:#555}"""
# Rows of the page's table of pairs; the CSV lists every pair.
TABLE_ROWS = 500
CSV_COLUMNS = ["rank", "submission", "other", "other_is_known_solution", "share", "share_of_submission",
               "share_of_other", "shared_fingerprints", "name", "other_name"]


def write_csv(out, pairs, codes, names):
    """``out/similarity.csv``: every pair listed, largest share first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for rank, pair in enumerate(pairs, 1):
        first, second = codes[pair.first], codes[pair.second]
        writer.writerow([rank, first.id, second.id, "yes" if second.known else "no", f"{pair.share:.3f}",
                         f"{pair.share_first:.3f}", f"{pair.share_second:.3f}", pair.shared,
                         names.get(first.id, ""), "" if second.known else names.get(second.id, "")])
    write_atomically(Path(out) / "similarity.csv", buffer.getvalue())


def write_html(out, lab, pairs, codes, names, passages, settings):
    """``out/similarity.html``: the ranked pairs, the first ``len(passages)`` of them side by
    side (``passages[k]``: the slices of pair k's two texts), and what could not be compared."""
    links = [f'<a href="#pair-{rank}">side by side</a>' for rank in range(1, len(passages) + 1)]
    rows = "".join(
        f"<tr><td>{rank}</td><td>{_who(codes[p.first], names)}</td><td>{_who(codes[p.second], names)}</td>"
        f"<td>{p.share:.0%}</td><td>{p.share_first:.0%} / {p.share_second:.0%}</td>"
        f"<td>{links[rank - 1] if rank <= len(links) else ''}</td></tr>"
        for rank, p in enumerate(pairs[:TABLE_ROWS], 1))
    shown = "".join(_pair_section(rank, pairs[rank - 1], codes, names, slices)
                    for rank, slices in enumerate(passages, 1))
    unread = "".join(f"<li>{escape(c.id)}: {escape(c.problem)}</li>" for c in codes if c.problem)
    empty = [c.id for c in codes if not c.problem and not c.sections and not c.known]
    students = sum(not c.known for c in codes)
    body = f"""
<p class="note">A list to read, not a verdict: code that solves the same exercise often looks alike, and a
pair here may have worked from the same lecture, textbook or hint.  The share is of the code each one wrote
(the template's own code left out), counted on passages of {settings['noise']} or more tokenised characters
(names, comments, spaces and line breaks do not count); a submission and its pair each have their own share,
the larger ranks the pair.  Code is shown as Python reads it: comments, docstrings and layout are not
compared.</p>
<p>{students} submissions of {escape(lab)}{f", {len(codes) - students} known solutions" if students < len(codes) else ""};
{len(pairs)} pairs share {settings['min_share']:.0%} or more of their code; the first {len(passages)} are shown side by side.</p>
{f"<h2>Not compared</h2><ul>{unread}</ul>" if unread else ""}
{f"<p>No code of their own (the template as handed out): {escape(', '.join(empty))}</p>" if empty else ""}
<h2>Pairs</h2><table><tr><th>rank</th><th>submission</th><th>shares code with</th><th>share</th>
<th>of each one's code</th><th></th></tr>{rows}</table>
{f"<p>... and {len(pairs) - TABLE_ROWS:,} more pairs in similarity.csv.</p>" if len(pairs) > TABLE_ROWS else ""}
{shown}"""
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Similar submissions: {escape(lab)}</title>'
            f"<style>{PAGE_STYLE}</style></head><body><h1>Similar submissions: {escape(lab)}</h1>{body}</body></html>")
    write_atomically(Path(out) / "similarity.html", page)


def _who(code, names):
    label = f"{code.id} (known solution)" if code.known else code.id
    name = "" if code.known else names.get(code.id, "")
    return escape(f"{label}, {name}" if name else label)


def _pair_section(rank, pair, codes, names, slices):
    """One pair side by side, a row per section either one wrote, passages highlighted."""
    first, second = codes[pair.first], codes[pair.second]
    spans = [dict((name, (start, end)) for name, start, end in code.section_spans()) for code in (first, second)]
    order = list(first.sections) + [name for name in second.sections if name not in first.sections]
    rows = []
    for section in order:
        cells = []
        for code, span, marks in zip((first, second), spans, slices):
            if section not in span:
                cells.append('<td class="side"><p class="note">(not written)</p></td>')
                continue
            start, end = span[section]
            text, covered = highlighted(code.text, start, end, marks)
            cells.append(f'<td class="side"><p class="note">{covered:.0%} shared</p><pre>{text}</pre></td>')
        rows.append(f"<tr><th colspan=2>{escape(section)}</th></tr><tr>{''.join(cells)}</tr>")
    return (f'<h2 id="pair-{rank}">{rank}. {_who(first, names)} and {_who(second, names)}: {pair.share:.0%}</h2>'
            f"<table><tr><th>{_who(first, names)}</th><th>{_who(second, names)}</th></tr>{''.join(rows)}</table>")


def highlighted(text, start, end, marks):
    """``text[start:end]`` as HTML, the parts inside ``marks`` (``(starts, ends)`` into
    ``text``) in ``<mark>``; and the share of it they cover."""
    inside = sorted((max(s, start), min(e, end)) for s, e in zip(*marks) if s < end and e > start)
    html, position, covered = [], start, 0
    for s, e in inside:
        if e <= position:
            continue
        s = max(s, position)
        html.append(escape(text[position:s]) + f"<mark>{escape(text[s:e])}</mark>")
        covered += e - s
        position = e
    html.append(escape(text[position:end]))
    return "".join(html), covered / max(1, end - start)
