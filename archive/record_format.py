"""The record format, described once: which YAML key lands in which column, as what.

Everything that needs to know the fields of a record reads them from here: the
parser checks and converts each key by its `kind` (ingest/records.py), the writer
builds its rows and fill rules from the columns (ingest/writer.py), `archive show`
lists them (query/queries.py), and a record's keys that are not described here
are kept as JSON in `extra`. The models (store/models.py) hold the columns, and
tests/test_record_format.py checks that the two agree, that the views show these
fields and that the README names every key.

Adding a field to the format (an article's key, e.g. `author`, as text):

1. The description: `Field("author", "author", "text")` in ARTICLE_FIELDS, before
   the fields `archive show` lists last (`summary=False` if article_summary is not
   to show it). The parser, the writer and `show` follow from this.
2. The migration, generated: from the repository,
   `python -m migrations.new_field author author text` (kinds: text, url,
   integer, boolean; add `--no-summary` with `summary=False`). It writes
   migrations/versions/<rev>_field_author.py, the view's next version
   (migrations/objects/article_summary.<rev>.*.sql), HEAD_REVISION and the
   column in store/columns.py (the write path's column list). The step
   that matters most is in it: records imported before the field kept `author`
   in `extra`, and the migration moves those values into the column, on SQLite
   and PostgreSQL (and back into `extra` on downgrade).
3. The model: the line the generator prints, in class Article of store/models.py.
4. A test: tests/test_record_format.py builds its sample record from this
   description, so it covers the field without edits; add one for what is
   special about it, if anything.

tests/test_new_field.py runs these steps on a throwaway field in a copy of the
project and checks import, show, export, the view, the backfill and the downgrade.
Identity URLs, timestamps and provider or image fields need more than the
generator writes (article_url rows, timestamp conversion, other tables): write
those migrations by hand, from the generated one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "url", "timestamp", "integer", "boolean"]

# The values a field of each kind may hold; a record with a value outside them is
# rejected. Whole numbers: what SQL databases hold in an integer column (64 bits).
INTEGER_RANGE = (-(2**63), 2**63 - 1)
# Timestamps, after conversion to UTC: from year 1 up to (not including) year 9999.
# Python's dates (and SQL's date functions) end with 9999; a year less leaves room
# for `timeline` to step one period past any stored date.
TIMESTAMP_RANGE = (
    dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
    dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc),
)


@dataclass(frozen=True)
class Field:
    """One key of a record (or of a related entry) that has a column of its own."""

    key: str  # as written in the record's YAML
    column: str  # in the table the entry becomes a row of
    kind: Kind  # how the value is checked: never silently converted
    # Its normalized URL identifies the article (a row in article_url), so that
    # another record naming the same address updates the same article.
    identity: bool = False
    # A column of the article_summary view (the one-row-per-article view users query).
    summary: bool = True
    # A long opaque value: `archive show` lists it last, after the readable fields.
    blob: bool = False


# An article's own fields, in the order `archive show` lists them (blobs last).
# A related entry states the same fields about the article it names.
ARTICLE_FIELDS: tuple[Field, ...] = (
    # The article's address: its webUrl, else (videos have none) its originalUrl.
    Field("webUrl", "url", "url", identity=True),
    Field("title", "title", "text"),
    Field("excerpt", "excerpt", "text"),
    Field("category", "category", "text"),
    Field("type", "type", "text"),
    Field("publishedDateTime", "published_at", "timestamp"),
    Field("quality", "quality", "integer"),
    Field("heat", "heat", "integer"),
    Field("published", "published", "boolean"),
    # Where the source site found the item; equal to webUrl where both are given.
    Field("originalUrl", "original_url", "url", identity=True, summary=False),
    Field("ampWebUrl", "amp_url", "url", identity=True, summary=False),
    Field("cdnAmpWebUrl", "cdn_amp_url", "url", identity=True, summary=False),
    # Stored verbatim and never decoded: an opaque blob of the source site's.
    Field("secured", "secured", "text", summary=False, blob=True),
    # An embed (an iframe's HTML) for videos.
    Field("featuredContent", "featured_content", "text", summary=False, blob=True),
)

# The keys an article's `url` is taken from, the first one given. A key given with
# a null value (`webUrl: null`, as the sites' JSON API writes it) counts as absent.
ADDRESS_KEYS = ("webUrl", "originalUrl")

# Keys of an article that become rows of their own tables rather than columns.
PROVIDER_KEY = "provider"
IMAGES_KEY = "images"
# Keys only an article's own record gives (a related entry's are kept in its extra).
TOPICS_KEY = "topics"
RELATED_KEY = "related"

PROVIDER_FIELDS: tuple[Field, ...] = (
    Field("name", "name", "text"),
    Field("domain", "domain", "text"),
)

IMAGE_FIELDS: tuple[Field, ...] = (
    Field("url", "url", "text"),  # exact: image URLs are not normalized
    Field("width", "width", "integer"),
    Field("height", "height", "integer"),
    Field("isCached", "is_cached", "boolean"),
)

# Keys with a column or a table of their own; every other key of an article, a
# related entry, a provider or an image goes, as JSON, to that row's `extra`.
ARTICLE_KEYS = frozenset({f.key for f in ARTICLE_FIELDS} | {PROVIDER_KEY, IMAGES_KEY})
RECORD_KEYS = ARTICLE_KEYS | {TOPICS_KEY, RELATED_KEY}
IMAGE_KEYS = frozenset(f.key for f in IMAGE_FIELDS)
PROVIDER_KEYS = frozenset(f.key for f in PROVIDER_FIELDS)

# The article columns a record states, and the identity fields among them.
ARTICLE_COLUMNS: tuple[str, ...] = tuple(f.column for f in ARTICLE_FIELDS)
IDENTITY_FIELDS: tuple[Field, ...] = tuple(f for f in ARTICLE_FIELDS if f.identity)

# Article columns that are bookkeeping rather than something a record's key says.
# `body` is the text after the front matter; `provider_id` comes from `provider`.
ARTICLE_BOOKKEEPING = (
    "id", "body", "provider_id", "extra", "is_stub", "source_file_id", "removed_at",
)  # fmt: skip
