"""What a row says when several records speak of the same thing: the merge rules.

Pure functions, no database: the writer (ingest/writer.py) asks them and turns the
answers into rows. Each rule is one in the README ("Importing", "Identity" and
"Related entries"), and tests/test_merge_rules.py tests each directly.

- An article's own record is the authority on it: it replaces whatever an earlier
  record or any related entry said (the writer takes its row whole).
- A related entry naming an article not yet known creates a stub from what it says.
- A later related entry naming a stub only fills in what is still empty; one naming
  an article with its own record changes nothing.
- A stub takes the images of the first related entry that has any.
- Providers and images keep the first values seen and fill in the missing ones
  (fill_empty, as stubs do).
- A topic listed twice in one record is linked once, where it first appears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from .. import identity


class RelatedEffect(Enum):
    """What a related entry does to the article it names."""

    CREATE_STUB = "create a stub"
    FILL_STUB = "fill the stub's empty fields"
    NOTHING = "nothing: the article's own record is the authority"


def related_effect(known_as_stub: bool | None) -> RelatedEffect:
    """The effect of a related entry on an article that is unknown (None), a stub
    (True) or known from its own record (False)."""
    if known_as_stub is None:
        return RelatedEffect.CREATE_STUB
    return RelatedEffect.FILL_STUB if known_as_stub else RelatedEffect.NOTHING


def fill_empty(known: Mapping[str, Any], offered: Mapping[str, Any]) -> dict[str, Any]:
    """The values `offered` gives to fields that are still empty.

    `known` maps each field whose value is known to it; a field missing from it is
    taken as filled (for a row already in the archive, only its empty fields are
    read). A field that is filled, by the archive or earlier in the same batch,
    keeps its value: the first description to give it wins.
    """
    return {
        name: value
        for name, value in offered.items()
        if value is not None and name in known and known[name] is None
    }


def takes_images(has_images: bool, offered: Iterable[Any]) -> bool:
    """A stub takes a related entry's images only while it has none."""
    return not has_images and any(True for _ in offered)


def unique_topics(names: Iterable[str]) -> list[tuple[str, str]]:
    """(key, name) of each topic a record lists, in order, each key once (the first
    spelling is the one linked)."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(identity.topic_key(name), name)
    return list(seen.items())
