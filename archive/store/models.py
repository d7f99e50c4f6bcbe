"""The tables: the one description of the schema, which Alembic migrations follow.

Users write SQL against these names, so they are a public interface (README: Schema).
Changing one needs a migration; `tests/test_migrations.py` fails while the models
and the migrations disagree.

What a table or column means is written here too, as `info["description"]` on the
SQLAlchemy Table or Column (and in VIEWS for the views), so that every reader of the
schema (the README's schema table, a Datasette metadata file) takes it from one
place. `info` is Python-only: unlike `comment`, it never reaches the DDL, so a
description can change without a migration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    false,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

# Constraint names must be stable for migrations (SQLite ALTER needs them by name).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# NULL in SQL for a missing value, not the JSON text 'null'.
_JSON = JSON(none_as_null=True)

# How SQLite holds an instant: ISO 8601 UTC text of fixed width. String comparison
# with a date or a timestamp a user types (`published_at >= '2020-08-17'`) then does
# the right thing, and the sqlite3 shell, Datasette and pandas show what the query
# commands show. To the second: the records are.
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class _IsoText(sqlite.DATETIME):
    """SQLite's DATETIME column, its values passed through as the text they are:
    UTCTimestamp writes and reads them itself, with datetime's own C parser (the
    dialect's regular-expression parser doubled the time of `providers --topic`)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCTimestamp(TypeDecorator[dt.datetime]):
    """An aware datetime, stored in UTC: `YYYY-MM-DDTHH:MM:SSZ` text in SQLite (the
    column is still declared DATETIME), a timestamp with time zone elsewhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_IsoText())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("timestamps must be aware: archive stores instants in UTC")
        utc = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
        # To the second on every engine, as SQLite's text is, so PostgreSQL stores
        # and shows what SQLite does.
        return utc.replace(microsecond=0)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite: ISO text ending in Z (3.10 cannot parse the Z)
            return dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=dt.timezone.utc)
        if value.utcoffset() is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def _timestamp(description: str) -> Any:
    return Field(default=None, sa_type=UTCTimestamp, sa_column_kwargs=_described(description))


# Marks an index that only the query commands read, never the importer: a first
# import builds these once at its end instead of row by row (store/deferred_indexes.py).
QUERY_ONLY = {"query_only": True}


def _described(description: str) -> dict[str, Any]:
    """Keyword arguments for a Table (`__table_args__`) or Column that describe it."""
    return {"info": {"description": description}}


def _fk(
    target: str,
    *,
    nullable: bool = True,
    index: bool = False,
    ondelete: str | None = None,
    description: str | None = None,
) -> Any:
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        sa_column_kwargs=_described(description) if description else {},
        nullable=nullable,
        index=index,
        sa_type=Integer,
    )


class Collection(SQLModel, table=True):
    """Where files come from: a folder given to `archive import`, or a git repository."""

    __tablename__ = "collection"
    __table_args__ = _described(
        "One row per folder or git repository imported from; a file is a path inside one."
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(
        unique=True,
        sa_type=Text,
        sa_column_kwargs=_described(
            "the collection's identity: `folder:` or `git:` and its absolute location"
        ),
    )
    kind: str = Field(sa_column_kwargs=_described("`folder`, `git`, or `stdin`"))
    name: str = Field(
        sa_type=Text, sa_column_kwargs=_described("the folder's name, which `dump` writes it as")
    )
    last_commit: str | None = Field(
        default=None,
        sa_column_kwargs=_described(
            "git: the last commit imported; the next import starts after it"
        ),
    )


class SourceFile(SQLModel, table=True):
    """One row per import of a file's content: what came in, when, and what became of it."""

    __tablename__ = "source_file"
    __table_args__ = (
        # Covering indexes: re-import checks paths and hashes without touching the
        # wide rows, which hold each file's text.
        Index("ix_source_file_sha256", "sha256"),
        Index("ix_source_file_path_id_sha256", "path", "id", "sha256"),
        # A file is (collection, relative path); its versions are its rows, by id.
        # Covering: re-import reads each file's last version without the wide rows.
        Index(
            "ix_source_file_collection_id_rel_path_id",
            "collection_id",
            "rel_path",
            "id",
            "sha256",
            "article_id",
            "removed_at",
        ),
        _described(
            "One row per version of a file: each content a path brought, in import order."
            " Rejected files are reported, not stored."
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(sa_type=Text, sa_column_kwargs=_described("the path it was imported from"))
    sha256: str = Field(sa_column_kwargs=_described("SHA-256 of the file's bytes, in hex"))
    size: int = Field(sa_column_kwargs=_described("in bytes"))
    imported_at: dt.datetime = _timestamp("UTC, `YYYY-MM-DDTHH:MM:SSZ`")
    status: str = Field(
        sa_column_kwargs=_described(
            "`new`, `updated` (a path imported before), or `copy` (a new path whose"
            " bytes another file brought before)"
        )
    )
    # The archive is lossless because it keeps what came in; every other table is
    # derived from these texts.
    text: str | None = Field(
        default=None,
        sa_type=Text,
        sa_column_kwargs=_described("the file's exact text, which `archive dump` writes back"),
    )
    # Deferred: the writer inserts a chunk's files before the articles they describe
    # (each article names its source file, so one of the two must wait for the commit).
    article_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            # use_alter: the two tables refer to each other; this breaks the cycle
            # when SQLAlchemy orders the tables (the migrations create them).
            ForeignKey("article.id", deferrable=True, initially="DEFERRED", use_alter=True),
            index=True,
            info={"description": "the article this file's record describes"},
        ),
    )
    collection_id: int | None = _fk(
        "collection.id",
        description="the folder or repository the file is in (NULL: imported before archives recorded collections)",
    )
    rel_path: str | None = Field(
        default=None,
        sa_type=Text,
        sa_column_kwargs=_described(
            "the file's path inside its collection, `/`-separated: with it, the file's identity"
        ),
    )
    commit_id: str | None = Field(
        default=None, sa_column_kwargs=_described("git: the commit that brought this version")
    )
    committed_at: dt.datetime | None = _timestamp("git: the commit's time (UTC)")
    removed_at: dt.datetime | None = _timestamp(
        "when the file was deleted (git), set on its last version"
    )


class Provider(SQLModel, table=True):
    __tablename__ = "provider"
    __table_args__ = _described("One row per provider (publisher).")

    id: int | None = Field(default=None, primary_key=True)
    # identity.provider_key
    key: str = Field(
        unique=True,
        sa_column_kwargs=_described(
            "the provider's identity: its domain, lowercased, without a leading `www.`;"
            " for a provider without a domain, `name:` and its name as topics are matched"
        ),
    )
    name: str | None = Field(default=None, sa_column_kwargs=_described("the first name seen"))
    domain: str | None = Field(
        default=None, sa_column_kwargs=_described("the first domain seen, as written")
    )
    extra: dict[str, Any] | None = Field(
        default=None,
        sa_type=_JSON,
        sa_column_kwargs=_described(
            "JSON of the provider's keys that have no column (e.g. `images`: logos),"
            " from the first record that gives any"
        ),
    )


class Topic(SQLModel, table=True):
    __tablename__ = "topic"
    __table_args__ = _described("One row per topic.")

    id: int | None = Field(default=None, primary_key=True)
    # identity.topic_key
    key: str = Field(
        unique=True,
        sa_column_kwargs=_described(
            "the topic's identity: its name trimmed, inner spaces collapsed, case-folded"
            " and in Unicode NFKC form"
        ),
    )
    name: str = Field(sa_column_kwargs=_described("the first spelling seen"))


class Article(SQLModel, table=True):
    __tablename__ = "article"
    __table_args__ = (
        # Articles with own records (is_stub = 0) by provider and by time: the
        # queries without a topic read these indexes instead of the wide rows.
        Index(
            "ix_article_is_stub_provider_id_published_at",
            "is_stub",
            "provider_id",
            "published_at",
            info=QUERY_ONLY,
        ),
        Index("ix_article_is_stub_published_at", "is_stub", "published_at", info=QUERY_ONLY),
        # Whether any article is removed (git), asked before a search: cheap with this.
        Index("ix_article_removed_at", "removed_at"),
        # Covering index for lookups by id (related articles of a topic's articles):
        # they need only these columns, not the rows with bodies and secured blobs.
        Index(
            "ix_article_id_provider_id_published_at_is_stub",
            "id",
            "provider_id",
            "published_at",
            "is_stub",
        ),
        _described(
            "One row per article, from its own record or, for a stub, from related entries."
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(
        sa_type=Text,
        sa_column_kwargs=_described(
            "the record's `webUrl`, else its `originalUrl`, as written"
            " (`article_url` has the normalized forms)"
        ),
    )
    title: str | None = Field(default=None, sa_type=Text)
    excerpt: str | None = Field(default=None, sa_type=Text)
    body: str | None = Field(default=None, sa_type=Text)
    category: str | None = None
    type: str | None = None
    published_at: dt.datetime | None = _timestamp(
        "UTC, `YYYY-MM-DDTHH:MM:SSZ` (text in SQLite: compare it with `'2020-08-17'`)"
    )
    quality: int | None = None
    heat: int | None = None
    published: bool | None = None
    amp_url: str | None = Field(default=None, sa_type=Text)
    cdn_amp_url: str | None = Field(default=None, sa_type=Text)
    provider_id: int | None = _fk("provider.id")
    secured: str | None = Field(
        default=None, sa_type=Text, sa_column_kwargs=_described("stored verbatim, never decoded")
    )
    # Nothing is dropped: keys without a column of their own are kept here.
    extra: dict[str, Any] | None = Field(
        default=None,
        sa_type=_JSON,
        sa_column_kwargs=_described("JSON of the record's top-level keys that have no column"),
    )
    is_stub: bool = Field(
        default=False,
        sa_column_kwargs=_described(
            "1 while the article is known only from other records' related entries"
        ),
    )
    source_file_id: int | None = _fk(
        "source_file.id",
        index=True,
        description="the article's own record file, or for a stub the file that first named it",
    )
    original_url: str | None = Field(
        default=None,
        sa_type=Text,
        sa_column_kwargs=_described(
            "`originalUrl` as written; `url` is this when the record has no `webUrl` (videos)"
        ),
    )
    featured_content: str | None = Field(
        default=None,
        sa_type=Text,
        sa_column_kwargs=_described("`featuredContent`: a video's embed (iframe HTML)"),
    )
    removed_at: dt.datetime | None = _timestamp(
        "when the file that showed the article was deleted (git); NULL while it exists"
    )


class ArticleUrl(SQLModel, table=True):
    """Every URL key that identifies an article: its webUrl, originalUrl, ampWebUrl and cdnAmpWebUrl."""

    __tablename__ = "article_url"
    __table_args__ = _described(
        "Every normalized URL (web, original, amp, cdn-amp) that identifies an article."
    )

    # identity.url_key
    url_key: str = Field(
        primary_key=True, sa_type=Text, sa_column_kwargs=_described("the normalized URL")
    )
    article_id: int = _fk("article.id", nullable=False, index=True, ondelete="CASCADE")
    alias: bool = Field(
        default=False,
        sa_column_kwargs={
            "server_default": false(),
            **_described(
                "1 for an address the article had before its file changed it: it still"
                " finds the article until another file claims it"
            ),
        },
    )


class ArticleTopic(SQLModel, table=True):
    """An article's topic, carrying the article's provider and publication time.

    The copies make the hot questions (providers by topic, topics by provider,
    timelines by topic) index-only scans of this table. They cannot drift: only an
    article's own record gives it topics, and every import of that record rewrites
    these rows together with the article.
    """

    __tablename__ = "article_topic"
    __table_args__ = (
        Index(
            "ix_article_topic_topic_id_provider_id_published_at_article_id",
            "topic_id", "provider_id", "published_at", "article_id", info=QUERY_ONLY,
        ),
        Index(
            "ix_article_topic_provider_id_topic_id_published_at",
            "provider_id", "topic_id", "published_at", info=QUERY_ONLY,
        ),
        _described(
            "An article's topics, in record order; a topic listed twice in one record is linked once."
        ),
    )  # fmt: skip

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    topic_id: int = Field(
        sa_column=Column(Integer, ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(sa_column_kwargs=_described("the topic's place in the record, from 0"))
    # Copies of article.provider_id and article.published_at; triggers keep them
    # right whatever writes the rows (migration 0006).
    provider_id: int | None = _fk(
        "provider.id", description="a copy of the article's `provider_id`"
    )
    published_at: dt.datetime | None = _timestamp("a copy of the article's `published_at`")


class Image(SQLModel, table=True):
    __tablename__ = "image"
    __table_args__ = _described("One row per image URL.")

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(
        unique=True,
        sa_type=Text,
        sa_column_kwargs=_described(
            "the image's identity, exactly as written (image URLs are not normalized)"
        ),
    )
    width: int | None = Field(
        default=None, sa_column_kwargs=_described("the first seen, filled in later when missing")
    )
    height: int | None = Field(
        default=None, sa_column_kwargs=_described("the first seen, filled in later when missing")
    )
    is_cached: bool | None = None
    extra: dict[str, Any] | None = Field(
        default=None,
        sa_type=_JSON,
        sa_column_kwargs=_described("JSON of the image's other keys (e.g. `title`, `attribution`)"),
    )


class ArticleImage(SQLModel, table=True):
    __tablename__ = "article_image"
    __table_args__ = _described("An article's images, in record order.")

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(
        primary_key=True, sa_column_kwargs=_described("the image's place in the record, from 0")
    )
    image_id: int = _fk("image.id", nullable=False, index=True)


class RelatedLink(SQLModel, table=True):
    __tablename__ = "related_link"
    __table_args__ = _described(
        "An article's related entries, in record order; the same article may be linked twice."
    )

    article_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("article.id", ondelete="CASCADE"),
            primary_key=True,
            **_described("the article whose record lists the entry"),
        )
    )
    position: int = Field(
        primary_key=True, sa_column_kwargs=_described("the entry's place in the record, from 0")
    )
    related_article_id: int = _fk(
        "article.id", nullable=False, index=True, description="the article the entry names"
    )


class Story(SQLModel, table=True):
    """Articles that are copies of one text or announcement (README: Stories)."""

    __tablename__ = "story"
    __table_args__ = _described(
        "One row per story: articles with own records that are copies of one text or"
        " announcement (syndicated, re-transmitted, near-duplicate). A story of one article"
        " has a row too."
    )

    id: int | None = Field(default=None, primary_key=True)
    origin_article_id: int = _fk(
        "article.id",
        nullable=False,
        description="the story's first article: the earliest published (then the lowest id)",
    )
    articles: int = Field(sa_column_kwargs=_described("how many articles are copies of it"))
    providers: int = Field(sa_column_kwargs=_described("how many providers published it"))
    first_published: dt.datetime | None = _timestamp("the origin's `published_at`")


class ArticleStory(SQLModel, table=True):
    """An article's story, and what it was matched on."""

    __tablename__ = "article_story"
    __table_args__ = _described(
        "The story of each article with an own record (stubs have none), with what it was"
        " matched on."
    )

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    story_id: int = _fk("story.id", nullable=False, index=True)
    title_key: str = Field(
        sa_type=Text,
        sa_column_kwargs=_described(
            "the title normalized: case, punctuation, prefixes such as `Re-transmission:`"
            " and a trailing publisher's name removed"
        ),
    )
    signature: bytes = Field(
        sa_type=LargeBinary,
        sa_column_kwargs=_described(
            "MinHash signature of the title's and text's word trigrams (64 little-endian"
            " 32-bit minima)"
        ),
    )
    shingles: int = Field(
        sa_column_kwargs=_described("how many distinct word trigrams the signature was made of")
    )


class StoryBand(SQLModel, table=True):
    """The LSH index: articles whose signatures agree in a band meet under its key.

    One B-tree on SQLite (WITHOUT ROWID, keyed as it is looked up), and no foreign key
    nor index on article_id: each would be another B-tree written for every row, ten
    or eleven rows an article, which were most of stories' cost at import (migration
    0010). An article's rows are found from its stored features (ingest/stories.py);
    only stubs are ever deleted, and they have none. A lookup joins article_story,
    so a row whose article were gone would match nothing.
    """

    __tablename__ = "story_band"
    __table_args__ = {
        "sqlite_with_rowid": False,
        **_described(
            "Locality-sensitive hashing index of `article_story` signatures: an article is"
            " compared only with the articles that share one of its keys."
        ),
    }

    key: int = Field(
        sa_column=Column(
            BigInteger,
            primary_key=True,
            info={"description": "a band of the signature, or the normalized title, hashed"},
        )
    )
    article_id: int = Field(sa_column=Column(Integer, primary_key=True))
    band: int = Field(
        sa_column_kwargs=_described("the signature band the key hashes (0-9), or -1 for the title")
    )


# The Core tables behind the models, in one place: the bulk writer, the queries and
# dump build their SQL from these.
tables = SimpleNamespace(
    article=Article.__table__,
    article_url=ArticleUrl.__table__,
    article_topic=ArticleTopic.__table__,
    article_image=ArticleImage.__table__,
    related=RelatedLink.__table__,
    provider=Provider.__table__,
    topic=Topic.__table__,
    image=Image.__table__,
    source=SourceFile.__table__,
    collection=Collection.__table__,
    story=Story.__table__,
    article_story=ArticleStory.__table__,
    story_band=StoryBand.__table__,
)
# Every table, in the order `archive stats` lists them (tests check none is missing).
TABLE_NAMES = (
    "article", "provider", "topic", "image", "article_topic", "article_image",
    "related_link", "article_url", "source_file", "collection",
    "story", "article_story", "story_band",
)  # fmt: skip


@dataclass(frozen=True)
class View:
    """A view's description, and its columns' where the name alone does not say enough."""

    description: str
    columns: dict[str, str] = field(default_factory=dict)


# The views are SQL in migrations/versions/0002, not models, so their descriptions
# live here beside the tables'. tests/test_docs.py checks these names and columns
# against a database the migrations built.
VIEWS = {
    "article_summary": View(
        "One row per article, with its provider and topics.",
        {"topics": "the article's topic names as a JSON array, in record order"},
    ),
    "topic_article": View("One row per article and topic."),
    "provider_summary": View(
        "One row per provider, with its articles that have own records (stubs not counted)."
    ),
    "related_summary": View(
        "One row per related link, with the URLs of both articles and the related one's"
        " title and provider.",
        {"position": "the entry's place in the record, from 0"},
    ),
}
