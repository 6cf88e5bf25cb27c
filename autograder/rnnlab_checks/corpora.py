"""The public-domain texts of the char-level labs: found on disk, or downloaded once.

``load_corpus("sherlock")`` looks, in order, at an explicit ``path``, at ``$RNNLAB_DATA``,
at ``data/`` in the current folder (where the student bundle puts the lab's copy, beside the
notebook), at ``../shared/data/`` beside an rnnlab checkout, at the user cache
(``$XDG_CACHE_HOME/rnnlab`` or ``~/.cache/rnnlab``), and finally downloads the text from
Project Gutenberg (or the mirror in ``$RNNLAB_GUTENBERG_URL``) into that cache.  Every file is read as latin-1: that is how the labs'
figures (sherlock.txt: 3,011,055 characters, 102 distinct) are counted.  Stdlib only: the
module travels to students inside ``rnnlab_checks``.
"""

import os
import re
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

GUTENBERG_URL = "https://www.gutenberg.org/cache/epub/{id}/pg{id}.txt"
START_MARKER = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.M | re.I)
END_MARKER = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.M | re.I)
# Gutenberg's UTF-8 typography, written as the latin-1 text the labs count in.
TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                            "\u2014": "--", "\u2013": "-", "\u2026": "...", "\ufeff": ""})


@dataclass(frozen=True)
class Corpus:
    """A text the labs use: its file name on disk and the Gutenberg ebooks it is made of.

    Gutenberg revises its files, so a download is checked against a size range of the
    joined bodies (in characters), not against a hash.  ``sha256`` is that of the course's
    copy, on which the checks are calibrated ("" when no check depends on it).
    """

    name: str
    filename: str
    gutenberg_ids: tuple
    min_chars: int
    max_chars: int
    sha256: str = ""


CORPORA = {
    # The canon in Gutenberg's editions: Study in Scarlet, Sign of the Four, Adventures,
    # Memoirs, Return, Hound, Valley of Fear, His Last Bow, Case-Book (about 3.3 million
    # characters; sherlock.txt, from another edition, has 3,011,055).
    "sherlock": Corpus("sherlock", "sherlock.txt", (244, 2097, 1661, 834, 108, 2852, 3289, 2350, 69700),
                       2_500_000, 4_000_000,
                       "dc830e0866bd57bc42d8b3b76fc9616aa5fc2dce11b7decb2d2169d82c03d99f"),
    "shakespeare": Corpus("shakespeare", "shakespeare.txt", (100,), 3_500_000, 6_000_000),
}


class CorpusNotFound(FileNotFoundError):
    """The text is nowhere on disk and could not be downloaded; the message says where it looked."""


def load_corpus(name, path=None, download=True):
    """The text of corpus ``name`` (see ``CORPORA``), or of the file at ``path``, as a str."""
    return corpus_path(name, path, download).read_text(encoding="latin-1")


def corpus_path(name, path=None, download=True):
    """Where corpus ``name`` is on disk, downloading it into the user cache if need be."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise CorpusNotFound(f"{path} does not exist.")
        return path
    corpus = CORPORA.get(name)
    if corpus is None:
        raise ValueError(f"unknown corpus {name!r}; corpora: {', '.join(CORPORA)}")
    candidates = [folder / corpus.filename for folder in data_folders()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not download:
        raise CorpusNotFound(f"{corpus.filename} is in none of: {', '.join(map(str, candidates))}.")
    target = cache_folder() / corpus.filename
    try:
        return download_corpus(corpus, target, os.environ.get("RNNLAB_GUTENBERG_URL") or GUTENBERG_URL)
    except (OSError, ValueError) as error:
        raise CorpusNotFound(
            f"{corpus.filename} is in none of {', '.join(map(str, candidates))}, and the download from "
            f"Project Gutenberg failed ({error}). Put the file in one of those folders, or set "
            "RNNLAB_DATA to the folder that holds it.") from None


def data_folders():
    """The folders searched before the download, in order."""
    folders = [Path(os.environ["RNNLAB_DATA"])] if os.environ.get("RNNLAB_DATA") else []
    folders.append(Path.cwd() / "data")  # beside a student's notebook: the copy the lab is graded with
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():  # running from an rnnlab checkout
        folders.append(checkout.parent / "shared" / "data")
    folders.append(cache_folder())
    return folders


def cache_folder():
    """``$XDG_CACHE_HOME/rnnlab``, by default ``~/.cache/rnnlab``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnnlab"


def download_corpus(corpus, target, url=GUTENBERG_URL, timeout=60):
    """Download the ebooks of ``corpus`` (``url`` has an ``{id}`` field), keep the body of
    each, check the joined size and write it to ``target`` in latin-1; returns ``target``."""
    bodies = []
    for ebook in corpus.gutenberg_ids:
        with urllib.request.urlopen(url.format(id=ebook), timeout=timeout) as response:
            bodies.append(gutenberg_body(response.read().decode("utf-8-sig", errors="replace"), ebook))
    text = "\n\n".join(bodies).translate(TYPOGRAPHY)
    if not corpus.min_chars <= len(text) <= corpus.max_chars:
        raise ValueError(f"the ebooks {corpus.gutenberg_ids} hold {len(text):,} characters, outside the "
                         f"expected {corpus.min_chars:,}-{corpus.max_chars:,}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a download cut short (or two at once) never looks like a corpus.
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=target.name, suffix=".part", delete=False) as part:
        part.write(text.encode("latin-1", errors="replace"))
    Path(part.name).replace(target)
    return target


def gutenberg_body(text, ebook="?"):
    """The ebook's text between its ``*** START OF`` and ``*** END OF`` lines (the licence
    header and footer removed), with Windows line ends made plain."""
    start, end = START_MARKER.search(text), END_MARKER.search(text)
    if start is None or end is None or end.start() < start.end():
        raise ValueError(f"ebook {ebook} has no '*** START OF' / '*** END OF' lines")
    return text[start.end():end.start()].replace("\r\n", "\n").strip() + "\n"
