"""Who handed in what, for submissions that do not say it themselves (files and folders, as
opposed to Gradescope's export): a roster CSV read whole before grading, and matched to the
submissions.

A roster is a CSV file with a header; the header's case, spaces, underscores and hyphens do
not matter, and columns it does not know are ignored (a class list, or Canvas's gradebook
export, can serve as it is).  The columns it knows, by the names it accepts:

- ``submission`` (``submission id``, ``file``): the submission's id, the name of its file or
  folder without ``.ipynb`` or ``.zip`` (with it is fine too);
- ``name`` (``student``, ``student name``), ``email`` (``e-mail``, ``email address``),
  ``sid`` (``student id``, ``sis user id``);
- ``canvas id`` (``canvas user id``; a bare ``id`` only beside ``sis user id``, as in
  Canvas's export, where it is Canvas's user id), ``sis login id`` (``login id``,
  ``login``), ``section``: what canvas.csv needs to find the student in Canvas.

A submission matches the row with its id, else the row with its email (any case), else the
row with its sid, else the one row with its name (any case and spacing; a name on two rows
matches neither), the email, sid and name being what a Gradescope export already gave it.
The row fills what the submission lacks (name, email, sid) and gives it the Canvas ids and
section.  One of ``submission``, ``email``, ``sid`` or ``name`` must be there; rows that
name no one are skipped (Canvas's "Points Possible" line too); an id, email or sid on two
rows is an error.
"""

from dataclasses import dataclass

from .csvfiles import error_at, read_table

# Each field of a roster row with the header names it goes by (in ``column_key`` form).
FIELDS = {
    "submission": ("submission", "submission id", "file"),
    "name": ("name", "student", "student name"),
    "email": ("email", "e mail", "email address"),
    "sid": ("sid", "student id", "sis user id"),
    "canvas_id": ("canvas id", "canvas user id"),
    "sis_login_id": ("sis login id", "login id", "login"),
    "section": ("section",),
}
# What a submission is matched on, first match first.
MATCHED_ON = ("submission", "email", "sid", "name")
# Taken from the roster only where the submission has none (a Gradescope export's own win).
WHO = ("name", "email", "sid")
CANVAS = ("canvas_id", "sis_login_id", "section")
# Canvas's gradebook export has this line under its header (with leading spaces).
POINTS_POSSIBLE = "points possible"


@dataclass
class RosterEntry:
    """One student of the roster: the line it is on, and its fields (empty ones left out)."""

    line: int
    fields: dict


def read_roster(path):
    """The students of the roster at ``path``; raises ``InputFileError`` (one line, with the
    file and line) for a file that is not such a roster."""
    header, rows = read_table(path)
    columns = _columns(path, header)
    entries, seen = [], {}
    for line, cells in rows:
        fields = {field: cells[key] for key, field in columns.items() if cells.get(key)}
        if not any(fields.get(f) for f in MATCHED_ON) or fields.get("name", "").lower() == POINTS_POSSIBLE:
            continue
        for field in ("submission", "email", "sid"):
            if field in fields:
                value = _normal(field, fields[field])
                if (field, value) in seen:
                    raise error_at(path, line, f"{field} {fields[field]!r} is on line {seen[field, value]} too")
                seen[field, value] = line
        entries.append(RosterEntry(line, fields))
    return entries


def _columns(path, header):
    """``{header key: field}`` of the columns the roster uses."""
    aliases = {alias: field for field, names in FIELDS.items() for alias in names}
    if "sis user id" in header:  # Canvas's export: its bare "ID" is Canvas's user id
        aliases["id"] = "canvas_id"
    elif "id" in header:
        raise error_at(path, 1, "a column named 'id' is ambiguous: name it 'sid' (the student's number) or "
                       "'canvas id' (Canvas's user id)")
    columns, given_by = {}, {}
    for key in header:
        field = aliases.get(key)
        if field is None:
            continue
        if field in given_by:
            raise error_at(path, 1, f"the columns {given_by[field]!r} and {key!r} both give the {field}")
        columns[key], given_by[field] = field, key
    if not set(given_by) & set(MATCHED_ON):
        raise error_at(path, 1, "no column to match submissions on: name one 'submission', 'email', 'sid' or "
                       f"'name' (found: {', '.join(repr(k) for k in header if k) or 'none'})")
    return columns


def _normal(field, value):
    """``value`` as it is compared: emails and names in any case, names in any spacing."""
    if field == "email":
        return value.casefold()
    if field == "name":
        return " ".join(value.casefold().split())
    return value


def apply_roster(submissions, entries, path):
    """Fill each submission's details from its roster row (see the module's docstring);
    returns the warnings, one line each: the submissions in no row (they are graded all the
    same), and the rows that several submissions matched."""
    index = {}
    for entry in entries:
        for field in MATCHED_ON:
            if field in entry.fields:
                index.setdefault((field, _normal(field, entry.fields[field])), []).append(entry)
    unmatched, matched = [], {}
    for submission in submissions:
        entry = _match(submission, index)
        if entry is None:
            unmatched.append(submission.id)
            continue
        matched.setdefault(entry.line, []).append(submission.id)
        for field in WHO:
            if not getattr(submission, field):
                setattr(submission, field, entry.fields.get(field, ""))
        for field in CANVAS:
            if entry.fields.get(field):
                setattr(submission, field, entry.fields[field])
    warnings = [f"{path}, line {line}: {len(ids)} submissions are this student's ({', '.join(ids)}); "
                "canvas.csv has a row for each, and Canvas keeps the last" for line, ids in matched.items() if len(ids) > 1]
    if unmatched:
        warnings.append(f"{path}: {len(unmatched)} submission{'s' if len(unmatched) > 1 else ''} in no row, "
                        f"graded without a student: {', '.join(unmatched)}")
    return warnings


def _match(submission, index):
    """The roster row of ``submission``, or None."""
    keys = [("submission", submission.id), ("submission", submission.path.name), ("email", submission.email),
            ("sid", submission.sid), ("name", submission.name)]
    for field, value in keys:
        found = index.get((field, _normal(field, value))) if value else None
        if found and len(found) == 1:  # only a name can be on two rows: then it says nothing
            return found[0]
    return None
