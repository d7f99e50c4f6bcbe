"""Titles and text as copies of one story share them: normalized, then cut into shingles."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable

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


def shingles(title_words: list[str], text_words: list[str]) -> list[int]:
    """32-bit hashes of the word trigrams of the normalized title and the text, sorted
    and unique.

    Each word is hashed once (crc32, not Python's hash(): signatures are stored, and
    str hashes change from one process to the next); a trigram's hash combines its
    three words' modulo 2**64. Plain Python: an article has tens of trigrams, where
    numpy's per-call cost and its loading (0.15-0.3 s) cost more than the arithmetic.
    """
    hashes = [zlib.crc32(w.encode()) for w in title_words + text_words]
    if len(hashes) < SHINGLE_WORDS:
        # Fewer than three words: one shingle of what there is (not cut to 32 bits).
        return [hashes[0] ^ (hashes[1] * _P1 & _MASK64 if len(hashes) > 1 else 0)] if hashes else []
    found = set()
    for first, second, third in zip(hashes, hashes[1:], hashes[2:], strict=False):
        combined = (first * _P2 + second * _P1 + third) & _MASK64
        found.add((combined ^ (combined >> 29)) & _MASK32)
    return sorted(found)


# Odd multipliers that spread a word's position into a trigram's hash.
_P1 = 0x9E3779B1
_P2 = 0x85EBCA77C2B2AE63
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
