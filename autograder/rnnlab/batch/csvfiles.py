"""The CSV files the course staff hand to ``rnnlab grade`` (a roster, the scores given by
hand): read whole before anything is graded or written, forgiving on the header's case and
spacing, and every problem told in one line that names the file and the line."""

import csv
import io
import re
from pathlib import Path


class InputFileError(ValueError):
    """A file given on the command line that cannot be used; the message is one line, with
    the file and the line at fault."""


def column_key(header):
    """A header cell as a key: lower case, with spaces, underscores and hyphens as one space
    (``SIS_User_ID``, ``sis user id`` and ``SIS-User-ID`` are one column)."""
    return re.sub(r"[\s_\-]+", " ", header).strip().lower()


def read_table(path):
    """``(header, rows)`` of the CSV file at ``path``: the header's keys (``column_key``) and
    one ``(line number, {key: stripped cell})`` per row that is not blank.  A row may leave
    out trailing cells (spreadsheets do), but not hold more cells than the header names."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel's UTF-8 starts with a byte-order mark
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: not UTF-8 text (byte {error.start}); save it as CSV UTF-8") from None
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, rows = None, []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [column_key(cell) for cell in cells]
                repeated = sorted({key for key in header if key and header.count(key) > 1})
                if repeated:
                    raise InputFileError(f"{path}, line {reader.line_num}: the column {repeated[0]!r} is named twice")
                continue
            extra = [cell for cell in cells[len(header):] if cell.strip()]
            if extra:
                raise InputFileError(f"{path}, line {reader.line_num}: {len(cells)} cells where the header names "
                                     f"{len(header)} (a comma inside a value needs double quotes around it)")
            rows.append((reader.line_num, {key: cell.strip() for key, cell in zip(header, cells) if key}))
    except csv.Error as error:
        raise InputFileError(f"{path}, line {reader.line_num}: not valid CSV ({error})") from None
    if header is None:
        raise InputFileError(f"{path}: empty; a header line is expected first")
    return header, rows


def error_at(path, line, message):
    """The ``InputFileError`` for ``message`` at ``line`` of ``path``."""
    return InputFileError(f"{path}, line {line}: {message}")
