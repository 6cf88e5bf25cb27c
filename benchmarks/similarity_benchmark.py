"""``rnnlab similarity`` on a course of N char_rnn_numpy submissions, on one core: seconds
and peak memory, whether copies planted in the course rank first, and what each disguise
leaves of a copy's share.

    OMP_NUM_THREADS=1 python benchmarks/similarity_benchmark.py [N]      (default 1000)

The course is made of the independent implementations the tests use (the reference and
``tests/independent/``): each submission takes each function from one of them, rewritten
at random so that no two submissions are alike (``a @ b`` as ``np.dot``, neighbouring
statements swapped, a statement that does nothing after a fifth of them); ``N // 50`` more are
disguised copies of submissions of the course (renamed, reformatted, commented, functions
re-ordered and pasted in one cell).
"""

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from disguises import (commented, disguised, implementations, matmul_as_dot, notebook_with,  # noqa: E402
                       padded, reformatted, renamed, statements_swapped)

from rnnlab.similarity import index  # noqa: E402
from rnnlab.similarity.compare import compare  # noqa: E402
from rnnlab.similarity.sources import read_template, student_code  # noqa: E402

LAB = "char_rnn_numpy"
DISGUISES = (renamed, reformatted, commented, matmul_as_dot, statements_swapped, padded)


def course(folder, size, seed=0):
    """Write ``size`` submissions and ``size // 50`` disguised copies into ``folder``;
    returns the planted pairs ``{(copy, original)}``."""
    pick = random.Random(seed)
    pool = implementations(LAB)
    written = {}
    for number in range(size):
        functions = {}
        for name in pool["reference"]:
            source = pool[pick.choice(list(pool))][name]
            source = matmul_as_dot(source) if pick.random() < 0.5 else source
            source = statements_swapped(source) if pick.random() < 0.5 else source
            functions[name] = padded(source, share=0.2, seed=pick.randrange(2**32))
        helpers = {n: s for style in pool for n, s in pool[style].items() if n.startswith("_")}
        functions.update({n: s for n, s in helpers.items() if any(n in f for f in functions.values())})
        written[f"student{number:04d}"] = functions
        nbformat.write(notebook_with(LAB, functions), folder / f"student{number:04d}.ipynb")
    planted = set()
    for number in range(size // 50):
        original = pick.choice(sorted(written))
        copy = f"copy{number:03d}"
        nbformat.write(notebook_with(LAB, disguised(written[original], number), one_cell=True), folder / f"{copy}.ipynb")
        planted.add(frozenset((copy, original)))
    return planted


def disguise_table():
    """The share of its original a copy keeps under each disguise alone, per implementation."""
    template = read_template(LAB)
    boilerplate = index.boilerplate_hashes(template.text)
    print(f"{'disguise':20}" + "".join(f"{style:>12}" for style in implementations(LAB)))
    for disguise in DISGUISES:
        shares = []
        for functions in implementations(LAB).values():
            codes = [student_code("original", list(functions.values()), template),
                     student_code("copy", [disguise(s) for s in functions.values()], template)]
            pairs = index.similar_pairs(index.fingerprints(codes, boilerplate, False), codes, 0.0)
            shares.append(pairs[0].share_first if pairs else 0.0)
        print(f"{disguise.__name__:20}" + "".join(f"{share:12.3f}" for share in shares))


def main(size=1000):
    disguise_table()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "submissions"
        folder.mkdir()
        planted = course(folder, size)
        started = time.perf_counter()
        found = compare(LAB, [folder], Path(scratch) / "out", progress=False)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        listed = [frozenset((found.codes[p.first].id, found.codes[p.second].id)) for p in found.pairs]
        ranks = sorted(listed.index(pair) + 1 for pair in planted if pair in listed)
        print(f"{size + len(planted)} submissions: {seconds:.1f} s, peak memory {peak:.0f} MB (the benchmark's own "
              f"process, the course written included); {len(found.pairs)} pairs listed")
        print(f"planted copies: {len(ranks)} of {len(planted)} listed, ranks {ranks}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
