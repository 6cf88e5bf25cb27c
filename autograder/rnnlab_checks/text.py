"""Checks of the text a trained character model writes: real words, and no loops."""

import re
import zlib

from .failures import CheckFailure

WORD = re.compile(r"[a-z]+")


def words_of(text, min_length=1):
    """The lower-cased letter runs of ``text`` with at least ``min_length`` letters."""
    return [w for w in WORD.findall(text.lower()) if len(w) >= min_length]


def vocabulary_of(corpus):
    """The set of the lower-cased letter runs of ``corpus``, built without a list of every
    word of it (half a million for a corpus of 3 MB)."""
    return {match.group() for match in WORD.finditer(corpus.lower())}


def real_word_share(text, vocabulary, min_length=3):
    """Share of the words of ``text`` (``min_length`` letters or more) found in ``vocabulary``
    (0 when there are none).  Short words are left out: a model that only knows letter
    frequencies writes 'a', 'he' and 'to' by chance."""
    found = words_of(text, min_length)
    return sum(w in vocabulary for w in found) / len(found) if found else 0.0


def compression_ratio(text):
    """Compressed size over raw size: about 0.6 for 400 characters of English prose, far
    lower for text that loops over a few words."""
    raw = text.encode("utf-8")
    return len(zlib.compress(raw, 9)) / max(len(raw), 1)


def check_sampled_text(function, text, vocabulary, min_real_words, min_compression):
    """Fail unless sampled ``text`` has at least ``min_real_words`` real words (of 3+ letters)
    and does not loop (compression ratio at least ``min_compression``)."""
    shown = text[:120].replace("\n", " ")
    share = real_word_share(text, vocabulary)
    if share < min_real_words:
        raise CheckFailure(f"{function}: only {share:.0%} of the words the trained model writes are "
                           f"real words (at least {min_real_words:.0%} expected): '{shown}'")
    ratio = compression_ratio(text)
    if ratio < min_compression:
        raise CheckFailure(f"{function}: the trained model's text repeats itself (it compresses to "
                           f"{ratio:.2f} of its size, prose to about 0.6): '{shown}'")
