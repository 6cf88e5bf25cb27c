"""``rnnlab similarity``: read every submission's own code, find the pairs that share it,
write ``similarity.csv`` and ``similarity.html``."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..batch import batch
from . import index, report
from .sources import StudentCode, known_solutions, read_student_code, read_template

# Pairs sharing less than this of their code are left out of both files.  Measured in
# tests/test_similarity.py on the reference and the two independent implementations of a lab:
# independent submissions share 0.02 to 0.04; a copy renamed, reformatted, commented, its
# functions re-ordered, keeps 0.97 to 1.00 (a copy whose neighbouring statements are swapped
# keeps 0.51 to 0.75, the table of docs/course-staff.md).
MIN_SHARE = 0.25
# Pairs shown side by side in similarity.html (all of them are in the table and the CSV).
SHOWN = 50


@dataclass
class Similarity:
    """What ``compare`` found: the code read (submissions, then known solutions) and the
    pairs at or above the minimum share, largest share first."""

    codes: list[StudentCode]
    pairs: list[index.Pair]

    def ranked(self):
        """``[(submission, other, share)]`` in rank order, for a quick look."""
        return [(self.codes[p.first].id, self.codes[p.second].id, p.share) for p in self.pairs]


def compare(lab, submissions, out, against=None, min_share=MIN_SHARE, shown=SHOWN, progress=True):
    """Compare the code of ``submissions`` (files, folders, Gradescope exports, as ``rnnlab
    grade`` takes them) of ``lab`` between each other and with the known solutions in the
    folder ``against``; write ``out/similarity.csv`` and ``out/similarity.html``."""
    template = read_template(lab)
    with tempfile.TemporaryDirectory(prefix="rnnlab-similarity-") as unpacked:
        found = batch.collect(submissions, unpacked)
        codes = [read_student_code(s.id, s.path, template)
                 for s in tqdm(found, disable=not progress, unit="submission", desc="reading")]
    names = {s.id: s.name for s in found if s.name}
    if against:
        codes += [read_student_code(name, path, template, known=True) for name, path in known_solutions(against)]
    boilerplate = index.boilerplate_hashes(template.text)
    pairs = index.similar_pairs(index.fingerprints(codes, boilerplate, progress), codes, min_share)
    passages = index.shared_passages(pairs[:shown], codes, boilerplate)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # names and code of students: for the course staff only
    report.write_csv(out, pairs, codes, names)
    report.write_html(out, lab, pairs, codes, names, passages,
                      {"noise": index.NOISE_THRESHOLD, "min_share": min_share})
    return Similarity(codes, pairs)
