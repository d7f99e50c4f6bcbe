"""When two articles are one story, and why: the thresholds, in one place.

tests/fixtures/story_pairs.jsonl is the labelled set these were chosen on, and
tests/test_story_pairs.py keeps its precision and recall (README: Stories).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from . import minhash, text

# Estimated Jaccard of word trigrams at or above which two texts are copies, if
# their titles share most words (TITLE_OVERLAP of the normalized titles' words). In
# the labelled pairs, different texts reach 0.67 (one press-release template used
# by two companies: "Proseware acquires the maker of ServiceTeam" / "Levtech
# acquires the maker of PayFlow"; two release-wave videos that share an opening at
# 0.59); copies that are not matched by title sit at 0.8 and above.
TEXT_THRESHOLD = 0.6
TITLE_OVERLAP = 0.6
# Texts this close are copies whatever their titles say (a rewritten headline).
SAME_TEXT = 0.8
# Equal normalized titles of TITLE_MIN_WORDS words or more are one story when the
# texts do not contradict it (some overlap, or too little text to tell) and the
# articles appeared within this many days of each other (a re-transmission comes
# days later; a yearly "2021 release wave 1 overview" does not match 2022's, as the
# years differ in the title anyway).
TITLE_TEXT_FLOOR = 0.2
TITLE_WINDOW = dt.timedelta(days=14)
_LITTLE_TEXT = 8
TITLE_BAND = -1  # shingles: a title alone, or a title and a one-line excerpt


@dataclass
class Features:
    """What the rules compare of one article."""

    title_key: str
    signature: minhash.Signature
    shingles: int
    published_at: dt.datetime | None


def features(
    title: str | None,
    excerpt: str | None,
    body: str | None,
    published_at: dt.datetime | None,
    providers: Iterable[str | None] = (),
) -> Features:
    key = text.title_key(title, providers)
    grams = text.shingles(key.split(), text.words(excerpt) + text.words(body))
    return Features(key, minhash.signatures([grams])[0], len(grams), published_at)


def title_band(key: str) -> int | None:
    """The index key under which articles with this normalized title meet, if it is
    long enough to name a story by itself."""
    if len(key.split()) < text.TITLE_MIN_WORDS:
        return None
    digest = hashlib.blake2b(b"title:" + key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) >> 1


@dataclass
class Verdict:
    same: bool
    reason: str
    similarity: float


def plausible(a: Features, others: list[Features]) -> list[tuple[Features, float]]:
    """The `others` that `decide` could find one story with `a`, and their text
    similarity, computed for all at once: an article's candidates from the index are
    mostly texts that share some common wording, which this rules out cheaply."""
    if not others:
        return []
    similarities = minhash.similarities(a.signature, [o.signature for o in others])
    return [
        (other, float(similarity))
        for other, similarity in zip(others, similarities, strict=True)
        if similarity >= TITLE_TEXT_FLOOR or other.title_key == a.title_key
    ]


def decide(a: Features, b: Features, similarity: float | None = None) -> Verdict:
    """Whether `a` and `b` are one story, with the reason in words (`similarity`:
    their signatures' agreement, when already known)."""
    if similarity is None:
        similarity = minhash.jaccard(a.signature, b.signature)
    if similarity >= SAME_TEXT:
        return Verdict(True, f"the same text (similarity {similarity:.2f})", similarity)
    overlap = title_overlap(a.title_key, b.title_key)
    if similarity >= TEXT_THRESHOLD and overlap >= TITLE_OVERLAP:
        return Verdict(
            True,
            f"near-duplicate text (similarity {similarity:.2f}) and titles sharing"
            f" {overlap:.0%} of their words",
            similarity,
        )
    if similarity >= TEXT_THRESHOLD:
        return Verdict(
            False,
            f"similar text (similarity {similarity:.2f}) but titles share only {overlap:.0%}"
            f" of their words (< {TITLE_OVERLAP:.0%}): another event told in the same words",
            similarity,
        )
    long_title = len(a.title_key.split()) >= text.TITLE_MIN_WORDS
    if a.title_key != b.title_key or not long_title:
        why = "titles differ" if a.title_key != b.title_key else "the shared title is too short"
        return Verdict(
            False,
            f"{why}, and text similarity {similarity:.2f} < {TEXT_THRESHOLD}",
            similarity,
        )
    apart = _apart(a.published_at, b.published_at)
    if apart is not None and apart > TITLE_WINDOW:
        return Verdict(False, f"same title, but published {apart.days} days apart", similarity)
    little = min(a.shingles, b.shingles) <= _LITTLE_TEXT + len(a.title_key.split())
    if similarity >= TITLE_TEXT_FLOOR or little:
        return Verdict(
            True, f"same normalized title (text similarity {similarity:.2f})", similarity
        )
    return Verdict(
        False,
        f"same title, but the texts differ (similarity {similarity:.2f} < {TITLE_TEXT_FLOOR})",
        similarity,
    )


def title_overlap(a: str, b: str) -> float:
    """Jaccard of two normalized titles' word sets."""
    first, second = set(a.split()), set(b.split())
    return len(first & second) / len(first | second) if first | second else 0.0


def meet(a: Features, b: Features) -> bool:
    """Whether the index brings the two together: a shared band key or title key."""
    return bool(set(index_keys(a)) & set(index_keys(b)))


def index_keys(features: Features) -> list[tuple[int, int]]:
    """(key, band) pairs under which an article is indexed and looked up; band -1 is
    the normalized title."""
    found = list(zip(minhash.band_keys(features.signature), range(minhash.BANDS), strict=False))
    title = title_band(features.title_key)
    if title is not None:
        found.append((title, TITLE_BAND))
    return found


def _apart(a: dt.datetime | None, b: dt.datetime | None) -> dt.timedelta | None:
    if a is None or b is None:
        return None
    return abs(a - b)
