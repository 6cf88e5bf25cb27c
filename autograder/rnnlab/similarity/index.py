"""Which pairs of submissions share code, and how much: copydetect's fingerprints, an index.

Each submission's code is tokenised by copydetect (Pygments): names become ``V``, function
names ``F``, strings ``S``; comments and whitespace go.  Its fingerprints are the hashes of
every ``NOISE_THRESHOLD`` characters in a row of that text (a window of one: all of them, so
the choice never depends on the hash values, which Python salts per process), less those of
the student template (boilerplate).  The share a pair has in common is counted on an index
of the fingerprints that more than one submission holds: a matrix product of 0/1 rows, one
per submission, so that 1,000 submissions are counted in seconds, not aligned pair by pair.
"""

import io
from dataclasses import dataclass

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import get_token_coverage
from tqdm import tqdm

# copydetect's own defaults: 25 characters of tokenised code (``V=V.V(V@V+V@V+V)`` is 16)
# before two submissions are said to share a passage, and every such passage kept.
NOISE_THRESHOLD = 25
WINDOW = 1
# Columns of the index (shared fingerprints) multiplied at once: 4,096 float32 a submission.
BLOCK_COLUMNS = 4096


@dataclass
class Pair:
    """Two submissions (indices into the list compared) and what they share: ``shared``
    fingerprints, and the share of each one's fingerprints that is shared."""

    first: int
    second: int
    shared: int
    share_first: float
    share_second: float

    @property
    def share(self):
        """The pair's rank: the larger share (all of a small submission found in a larger one
        is as telling as two copies of one another)."""
        return max(self.share_first, self.share_second)


def fingerprint(text, boilerplate):
    """copydetect's fingerprint of ``text`` (Python), less the ``boilerplate`` hashes.  They are
    taken out here, not by copydetect: with a window of one a hash repeats, and its removal
    (``np.intersect1d`` told the hashes are unique) drops all but one place of each repeat."""
    made = CodeFingerprint("code.py", NOISE_THRESHOLD, WINDOW, fp=io.StringIO(text))
    if boilerplate:
        made.hashes -= boilerplate
        made.hash_idx = {value: places for value, places in made.hash_idx.items() if value in made.hashes}
        made.token_coverage = get_token_coverage(made.hash_idx, NOISE_THRESHOLD, len(made.filtered_code))
    return made


def boilerplate_hashes(template_text):
    """The fingerprints of the template's code: a set, made once for every submission."""
    return frozenset(fingerprint(template_text, None).hashes)


def fingerprints(codes, boilerplate, progress=True):
    """The fingerprints of each ``StudentCode``: a sorted array of hashes (empty for one with
    no code); copydetect's object of each is dropped, as it keeps every position (the side by
    side view makes it again for the pairs it shows)."""
    return [np.array(sorted(fingerprint(code.text, boilerplate).hashes), dtype=np.int64) if code.sections
            else np.zeros(0, dtype=np.int64)
            for code in tqdm(codes, disable=not progress, unit="submission", desc="fingerprints")]


def similar_pairs(prints, codes, min_share):
    """Every pair with a ``share`` of at least ``min_share``, largest first: pairs of
    submissions, and of a submission with a known solution (never two known solutions)."""
    counts = shared_counts(prints)
    sizes = np.array([len(hashes) for hashes in prints], dtype=np.float64)
    smaller = np.maximum(np.minimum.outer(sizes, sizes), 1.0)
    known = np.array([code.known for code in codes], dtype=bool)
    wanted = np.triu(counts / smaller >= min_share, k=1) & (counts > 0) & ~np.logical_and.outer(known, known)
    pairs = [Pair(int(i), int(j), int(counts[i, j]), counts[i, j] / sizes[i], counts[i, j] / sizes[j])
             for i, j in zip(*np.nonzero(wanted))]
    pairs.sort(key=lambda p: (-p.share, -p.shared, p.first, p.second))
    return pairs


def shared_counts(prints):
    """``counts[i, j]``: the fingerprints submissions i and j both hold.  Only those that
    more than one submission holds enter the index, a block of columns at a time."""
    rows = np.repeat(np.arange(len(prints)), [len(hashes) for hashes in prints])
    hashes = np.concatenate(prints) if prints else np.zeros(0, np.int64)
    _, column, holders = np.unique(hashes, return_inverse=True, return_counts=True)
    kept = holders[column] > 1
    rows, column = rows[kept], np.unique(column[kept], return_inverse=True)[1]
    counts = np.zeros((len(prints), len(prints)), dtype=np.float32)
    for start in range(0, int(column.max(initial=-1)) + 1, BLOCK_COLUMNS):
        inside = (column >= start) & (column < start + BLOCK_COLUMNS)
        block = np.zeros((len(prints), BLOCK_COLUMNS), dtype=np.float32)
        block[rows[inside], column[inside] - start] = 1.0
        # Sums of 0/1 products below 2**24 are exact in float32, whatever the BLAS kernel.
        counts += block @ block.T
    return counts


def shared_passages(pairs, codes, boilerplate):
    """Where the two texts of each of ``pairs`` share code: copydetect's slices of each,
    ``((starts, ends), (starts, ends))``; each text fingerprinted once."""
    made = {}

    def made_once(row):
        if row not in made:
            made[row] = fingerprint(codes[row].text, boilerplate)
        return made[row]

    return [compare_files(made_once(pair.first), made_once(pair.second))[2] for pair in pairs]
