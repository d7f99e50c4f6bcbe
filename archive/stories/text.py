"""Titles and text as copies of one story share them: normalized, then cut into shingles."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable

import numpy as np

# What republishers put before a title they copy; matched case-insensitively, repeatable.
_PREFIXES = re.compile(
    r"^(?:(?:re-?transmission|repost(?:ed)?|press release|pr|update[d]?|breaking"
    r"|exclusive|opinion|op-ed|analysis|video|watch|listen|podcast|sponsored"
    r"|news|fwd?|re)\s*[:|\-–—]\s*)+",
    re.IGNORECASE,
)
# A title's last segment after one of these may be the publisher's name.
_SUFFIX_SEPARATORS = re.compile(r"\s+[-|–—·:]\s+(?=[^-|–—·:]+$)")
_DOMAIN_LIKE = re.compile(r"\b[\w-]+\.(?:com|net|org|news|co|io|info|uk|de|fr|ca|au|in)\b")
# Marks an updated copy adds at the end: "(updated)", "[Update 2]".
_UPDATED = re.compile(r"\s*[(\[]\s*updated?(?:\s*\d+)?\s*[)\]]\s*$", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+")
# A title needs this many words for its normalized form alone to name one story:
# "Weekly update" or "Power Apps news" recur for different events.
TITLE_MIN_WORDS = 5
SHINGLE_WORDS = 3


def words(text: str | None) -> list[str]:
    """Lower-case words without punctuation or accents' variants (NFKC, casefold)."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _NON_WORD.split(folded.replace("'", "").replace("’", "")) if w]


def title_key(title: str | None, providers: Iterable[str | None] = ()) -> str:
    """The title as copies of one story share it: without republishing prefixes
    ("Re-transmission:", "Opinion |") and without a trailing publisher's name
    (" - The Verge") when it names the article's provider or looks like a site."""
    if not title:
        return ""
    text = unicodedata.normalize("NFKC", title).strip()
    text = _UPDATED.sub("", _PREFIXES.sub("", text))
    parts = _SUFFIX_SEPARATORS.split(text)
    if len(parts) == 2 and _is_publisher(parts[1], providers):
        text = parts[0]
    return " ".join(words(text))


def _is_publisher(suffix: str, providers: Iterable[str | None]) -> bool:
    key = " ".join(words(suffix))
    if not key:
        return False
    names = {" ".join(words(p)) for p in providers if p}
    names |= {n.removeprefix("the ") for n in names}
    if key in names or key.removeprefix("the ") in names:
        return True
    return bool(_DOMAIN_LIKE.search(suffix.casefold()))


def shingles(title_words: list[str], text_words: list[str]) -> np.ndarray:
    """32-bit hashes of the word trigrams of the normalized title and the text.

    Each word is hashed once (crc32, not Python's hash(): signatures are stored, and
    str hashes change from one process to the next); a trigram's hash combines its
    three words' in numpy.
    """
    sequence = title_words + text_words
    hashes = np.array([zlib.crc32(w.encode()) for w in sequence], dtype=np.uint64)
    if len(hashes) < SHINGLE_WORDS:
        return np.unique(hashes[:1] ^ (hashes[1:2] * _P1 if len(hashes) > 1 else 0))
    combined = hashes[:-2] * _P2 + hashes[1:-1] * _P1 + hashes[2:]
    return np.unique((combined ^ (combined >> np.uint64(29))) & _MASK32)


# Odd multipliers that spread a word's position into a trigram's hash.
_P1 = np.uint64(0x9E3779B1)
_P2 = np.uint64(0x85EBCA77C2B2AE63)
_MASK32 = np.uint64(0xFFFFFFFF)
