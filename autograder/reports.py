"""What a batch of grades becomes: results.json per submission, a gradebook, a table."""

import csv
import json
import os
import tempfile
from pathlib import Path


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.replace(temporary, path)


def submission_id(result):
    """A name for the submission's row and folder: its file name without the extension."""
    return Path(result.submission).stem


def write_results(results, out_dir):
    """``out_dir/<submission>/results.json`` for each, and ``out_dir/gradebook.csv``."""
    out_dir = Path(out_dir)
    for result in results:
        write_atomically(out_dir / submission_id(result) / "results.json",
                         json.dumps(result.to_gradescope(), indent=2))
    names = [q.name for q in results[0].questions] if results else []
    rows = [[submission_id(r)] + [f"{q.score:g}" for q in r.questions]
            + [f"{r.score:g}", f"{r.possible:g}", r.status] for r in results]
    with tempfile.NamedTemporaryFile("w", newline="", delete=False, dir=out_dir, suffix=".csv") as out:
        writer = csv.writer(out)
        writer.writerow(["submission"] + names + ["total", "possible", "status"])
        writer.writerows(rows)
    os.replace(out.name, out_dir / "gradebook.csv")


def score_table(results):
    """A plain-text table: one row per submission, one column per question."""
    if not results:
        return "no submissions"
    names = [q.name for q in results[0].questions]
    header = ["submission"] + names + ["total", "status"]
    rows = [[submission_id(r)] + [f"{q.score:g}/{q.possible:g}" for q in r.questions]
            + [f"{r.score:g}/{r.possible:g}", r.status] for r in results]
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [header] + rows)


def failure_summary(result):
    """The failing checks of one submission, for the console."""
    lines = [f"{m}" for m in result.messages]
    for q in result.questions:
        if q.score < q.possible:
            lines.append(f"{q.name} ({q.score:g}/{q.possible:g}):")
            lines.extend("  " + line for line in q.output.splitlines() if line.strip())
    return "\n".join(lines)
