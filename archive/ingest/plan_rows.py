"""The rows a write plan (writer.py) inserts, as named types.

Each type's fields are its table's columns in order (store/columns.py, itself
checked against the models), so a row is built by name and inserted by position
with `Row._fields` as the column list; tests/test_write_path.py checks the two
agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple


class SourceRow(NamedTuple):
    """A source_file row, as an import writes it (removed_at comes later, from git)."""

    id: int
    path: str
    sha256: str
    size: int
    imported_at: dt.datetime
    status: str
    text: str | None
    article_id: int
    collection_id: int | None
    rel_path: str | None
    commit_id: str | None
    committed_at: dt.datetime | None


class ProviderRow(NamedTuple):
    id: int
    key: str
    name: str | None
    domain: str | None
    extra: Any


class TopicRow(NamedTuple):
    id: int
    key: str
    name: str


class TopicLink(NamedTuple):
    """An article_topic row; provider and publication time repeat the article's, so
    the topic questions read one index."""

    article_id: int
    topic_id: int
    position: int
    provider_id: int | None
    published_at: dt.datetime | None


class ImageLink(NamedTuple):
    article_id: int
    position: int
    image_id: int


class RelatedLink(NamedTuple):
    article_id: int
    position: int
    related_article_id: int


@dataclass
class ProviderEntry:
    """A provider the catalog knows: its id and the fields a record could still fill.
    `has_extra` is True for "some": the writer only asks whether it has any yet."""

    id: int
    name: str | None
    domain: str | None
    has_extra: bool | None
