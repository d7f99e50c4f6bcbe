"""An article's features and index keys, computed from its record's text alone.

Parser processes compute these beside the record (ingest/parsers.py), so that the
writer, the slower half of an import, only looks them up and stores them. They
depend on the provider's names too (a title may end with one): the writer uses them
when the names it holds for the article's provider are those the record gave, and
computes them again otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import minhash, rules, text

Names = tuple[str | None, ...]


@dataclass(slots=True)
class Prepared:
    """What `features` made of one text: kept with the inputs it was made from, so the
    writer can tell whether they are still the article's."""

    title: str | None
    excerpt: str | None
    body: str | None
    names: Names
    title_key: str
    signature: bytes
    shingles: int
    keys: list[tuple[int, int]]

    def __reduce__(self) -> tuple:
        # Records travel from parser processes in bulk: as values, not a dict each.
        return (Prepared, tuple(getattr(self, name) for name in self.__slots__))

    def matches(
        self, title: str | None, excerpt: str | None, body: str | None, names: Names
    ) -> bool:
        # Identity first: the row's strings are the record's own objects.
        return (
            (self.title is title or self.title == title)
            and (self.excerpt is excerpt or self.excerpt == excerpt)
            and (self.body is body or self.body == body)
            and self.names == names
        )


def prepare(items: Sequence[tuple[str | None, str | None, str | None, Names]]) -> list[Prepared]:
    """Title keys, MinHash signatures and index keys of (title, excerpt, body,
    provider names) items, the signatures and band keys for all of them at once
    (in numpy when there are many: stories/minhash.py)."""
    title_keys = [text.title_key(title, names) for title, _e, _b, names in items]
    grams = [
        text.shingles(key.split(), text.words(excerpt) + text.words(body))
        for key, (_t, excerpt, body, _n) in zip(title_keys, items, strict=True)
    ]
    signatures = minhash.signatures(grams)
    band_keys = minhash.band_keys_many(signatures)
    out = []
    for index, (title, excerpt, body, names) in enumerate(items):
        keys = list(zip(band_keys[index], range(minhash.BANDS), strict=False))
        title_band = rules.title_band(title_keys[index])
        if title_band is not None:
            keys.append((title_band, rules.TITLE_BAND))
        out.append(
            Prepared(
                title, excerpt, body, names, title_keys[index],
                minhash.to_bytes(signatures[index]), len(grams[index]), keys,
            )
        )  # fmt: skip
    return out


def signatures(prepared: Sequence[Prepared]) -> list[minhash.Signature]:
    """The signatures of `prepared`, in order."""
    return [minhash.from_bytes(p.signature) for p in prepared]
