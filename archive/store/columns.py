"""The tables' columns as plain Python: what the write path needs of the schema.

The models (store/models.py) are the schema's one description; loading them means
loading SQLAlchemy and SQLModel (about 0.3 s), which an import into an archive at
the current revision no longer pays. This module repeats only the column names,
in table order, and each column's kind (how a Python value is stored), plus the
deferred indexes' columns. tests/test_write_path.py checks every entry against the
models, so the two cannot drift: a column added to a model fails that test until
it is added here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

# Each table's columns in order, as name:kind. Kinds say how a value is bound
# (write_connection.converter): int, text, blob and bool go to the driver as they
# are; a timestamp is an aware datetime, stored as ISO UTC text in SQLite; json is
# a Python value stored as JSON.
_COLUMNS = {
    "collection": "id:int key:text kind:text name:text last_commit:text",
    "source_file": "id:int path:text sha256:text size:int imported_at:timestamp status:text"
    " text:text article_id:int collection_id:int rel_path:text commit_id:text"
    " committed_at:timestamp removed_at:timestamp",
    "provider": "id:int key:text name:text domain:text extra:json",
    "topic": "id:int key:text name:text",
    "article": "id:int url:text title:text excerpt:text body:text category:text type:text"
    " published_at:timestamp quality:int heat:int published:bool amp_url:text"
    " cdn_amp_url:text provider_id:int secured:text extra:json is_stub:bool"
    " source_file_id:int original_url:text featured_content:text removed_at:timestamp",
    "article_url": "url_key:text article_id:int alias:bool",
    "article_topic": "article_id:int topic_id:int position:int provider_id:int"
    " published_at:timestamp",
    "image": "id:int url:text width:int height:int is_cached:bool extra:json",
    "article_image": "article_id:int position:int image_id:int",
    "related_link": "article_id:int position:int related_article_id:int",
    "story": "id:int origin_article_id:int articles:int providers:int first_published:timestamp",
    "article_story": "article_id:int story_id:int title_key:text signature:blob shingles:int",
    "story_band": "key:int article_id:int band:int",
}


@dataclass(frozen=True)
class Table:
    """A table's name and its columns in order, each with its kind."""

    name: str
    kinds: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.kinds)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds)


TABLES = tuple(
    Table(name, dict(column.split(":") for column in spec.split()))  # type: ignore[misc]
    for name, spec in _COLUMNS.items()
)
_by_name = {table.name: table for table in TABLES}
# The same short names as store.models.tables, so code written against either reads alike.
tables = SimpleNamespace(
    article=_by_name["article"],
    article_url=_by_name["article_url"],
    article_topic=_by_name["article_topic"],
    article_image=_by_name["article_image"],
    related=_by_name["related_link"],
    provider=_by_name["provider"],
    topic=_by_name["topic"],
    image=_by_name["image"],
    source=_by_name["source_file"],
    collection=_by_name["collection"],
    story=_by_name["story"],
    article_story=_by_name["article_story"],
    story_band=_by_name["story_band"],
)

# Query-only indexes (models: info["query_only"]) as (name, table, columns), in the
# models' order: a first import builds them at its end (deferred_indexes.py).
DEFERRED_INDEXES = (
    ("ix_article_is_stub_provider_id_published_at", "article",
     ("is_stub", "provider_id", "published_at")),
    ("ix_article_is_stub_published_at", "article", ("is_stub", "published_at")),
    ("ix_article_topic_provider_id_topic_id_published_at", "article_topic",
     ("provider_id", "topic_id", "published_at")),
    ("ix_article_topic_topic_id_provider_id_published_at_article_id", "article_topic",
     ("topic_id", "provider_id", "published_at", "article_id")),
)  # fmt: skip
