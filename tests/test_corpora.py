"""The corpora: found in the documented order, or downloaded from a (local) Gutenberg."""

import functools
import http.server
import threading

import pytest

from rnnlab_checks import corpora
from rnnlab_checks.corpora import CORPORA, Corpus, CorpusNotFound, download_corpus, load_corpus

CASEBOOK = Corpus("casebook", "casebook.txt", (69700,), 400_000, 500_000)


@pytest.fixture
def gutenberg(corpus_folder, tmp_path):
    """A local file server laid out like Gutenberg's cache: ``/cache/epub/69700/pg69700.txt``
    is the real Case-Book file, licence markers and all.  Yields its URL template."""
    root = tmp_path / "gutenberg"
    (root / "cache/epub/69700").mkdir(parents=True)
    (root / "cache/epub/69700/pg69700.txt").write_bytes(
        (corpus_folder / "casebook-of-sherlock-holmes-pg69700.txt").read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/cache/epub/{{id}}/pg{{id}}.txt"
    server.shutdown()


def test_the_sherlock_figures_hold_when_read_as_latin1(corpus_folder):
    text = load_corpus("sherlock", corpus_folder / "sherlock.txt")
    assert (len(text), len(set(text))) == (3_011_055, 102)


def test_download_keeps_the_body_between_the_markers(gutenberg, tmp_path):
    target = download_corpus(CASEBOOK, tmp_path / "cache" / "casebook.txt", gutenberg)
    text = target.read_text(encoding="latin-1")
    assert "PROJECT GUTENBERG" not in text.upper()
    assert text.startswith("THE CASE-BOOK OF") and text.rstrip().endswith("A. CONAN DOYLE.")
    assert 400_000 < len(text) < 500_000
    assert "\r" not in text and "\u2019" not in text  # plain line ends, latin-1 typography
    assert not list(target.parent.glob("*.part"))


def test_a_download_of_the_wrong_size_or_without_markers_is_refused(gutenberg, tmp_path):
    too_big = Corpus("casebook", "casebook.txt", (69700,), 10, 1000)
    with pytest.raises(ValueError, match="outside the expected"):
        download_corpus(too_big, tmp_path / "a.txt", gutenberg)
    with pytest.raises(ValueError, match="START OF"):
        corpora.gutenberg_body("no markers here")
    assert not (tmp_path / "a.txt").exists()


def test_resolution_order_then_download_into_the_cache(gutenberg, corpus_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(CORPORA, "casebook", CASEBOOK)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNLAB_GUTENBERG_URL", gutenberg)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "casebook.txt").write_text("from RNNLAB_DATA", encoding="latin-1")
    monkeypatch.setenv("RNNLAB_DATA", str(mine))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()  # beside a student's notebook: the lab's copy, after RNNLAB_DATA
    (tmp_path / "data" / "casebook.txt").write_text("handed out", encoding="latin-1")
    assert load_corpus("casebook") == "from RNNLAB_DATA"
    assert load_corpus("casebook", corpus_folder / "sherlock.txt").startswith("\n")  # explicit path first
    monkeypatch.delenv("RNNLAB_DATA")
    assert load_corpus("casebook") == "handed out"
    (tmp_path / "data" / "casebook.txt").unlink()
    # ../shared/data has the Sherlock texts, not this one: it comes from "Gutenberg" ...
    text = load_corpus("casebook")
    assert text.startswith("THE CASE-BOOK OF")
    assert (tmp_path / "cache" / "rnnlab" / "casebook.txt").is_file()
    # ... once: afterwards the cache answers, with the server gone.
    monkeypatch.setenv("RNNLAB_GUTENBERG_URL", "http://127.0.0.1:9/{id}")
    assert load_corpus("casebook") == text


def test_nowhere_and_no_download_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setitem(CORPORA, "casebook", CASEBOOK)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNLAB_GUTENBERG_URL", "http://127.0.0.1:9/pg{id}.txt")  # nothing listens
    with pytest.raises(CorpusNotFound, match="download from Project Gutenberg failed.*RNNLAB_DATA"):
        load_corpus("casebook")
    with pytest.raises(CorpusNotFound, match="none of"):
        load_corpus("casebook", download=False)
    with pytest.raises(ValueError, match="unknown corpus"):
        load_corpus("moby-dick")
