"""The tables: the one description of the schema, which Alembic migrations follow.

Users write SQL against these names, so they are a public interface (README: Schema).
Changing one needs a migration; `tests/test_migrations.py` fails while the models
and the migrations disagree.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text
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


def _fk(
    target: str, *, nullable: bool = True, index: bool = False, ondelete: str | None = None
) -> Any:
    return Field(
        default=None,
        sa_column_args=[ForeignKey(target, ondelete=ondelete)],
        nullable=nullable,
        index=index,
        sa_type=Integer,
    )


class SourceFile(SQLModel, table=True):
    """One row per import of a file's content: what came in, when, and what became of it."""

    __tablename__ = "source_file"
    __table_args__ = (
        # Covering indexes: re-import checks paths and hashes without touching the
        # wide rows, which hold each file's text.
        Index("ix_source_file_sha256", "sha256"),
        Index("ix_source_file_path_id_sha256", "path", "id", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(sa_type=Text)
    sha256: str
    size: int
    imported_at: dt.datetime
    status: str  # "imported" or "rejected"
    error: str | None = Field(default=None, sa_type=Text)
    # The file's exact text: the archive is lossless because it keeps what came in;
    # every other table is derived from these texts.
    text: str | None = Field(default=None, sa_type=Text)


class Provider(SQLModel, table=True):
    __tablename__ = "provider"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # identity.provider_key: domain without www., or name:<name>
    name: str | None = None
    domain: str | None = None


class Topic(SQLModel, table=True):
    __tablename__ = "topic"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # identity.topic_key: trimmed and case-folded
    name: str


class Article(SQLModel, table=True):
    __tablename__ = "article"
    __table_args__ = (
        # Articles with own records (is_stub = 0) by provider and by time: the
        # queries without a topic read these indexes instead of the wide rows.
        Index(
            "ix_article_is_stub_provider_id_published_at", "is_stub", "provider_id", "published_at"
        ),
        Index("ix_article_is_stub_published_at", "is_stub", "published_at"),
        # Covering index for lookups by id (related articles of a topic's articles):
        # they need only these columns, not the rows with bodies and secured blobs.
        Index(
            "ix_article_id_provider_id_published_at_is_stub",
            "id",
            "provider_id",
            "published_at",
            "is_stub",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=Text)  # as written in the record
    title: str | None = Field(default=None, sa_type=Text)
    excerpt: str | None = Field(default=None, sa_type=Text)
    body: str | None = Field(default=None, sa_type=Text)
    category: str | None = None
    type: str | None = None
    published_at: dt.datetime | None = None  # UTC
    quality: int | None = None
    heat: int | None = None
    published: bool | None = None
    amp_url: str | None = Field(default=None, sa_type=Text)
    cdn_amp_url: str | None = Field(default=None, sa_type=Text)
    provider_id: int | None = _fk("provider.id")
    secured: str | None = Field(default=None, sa_type=Text)
    # Top-level keys we do not map to a column, as JSON. Nothing is dropped.
    extra: dict[str, Any] | None = Field(default=None, sa_type=_JSON)
    # True while the article is known only from other records' related entries.
    is_stub: bool = Field(default=False)
    # The article's own record file; for a stub, the file whose related entry first named it.
    source_file_id: int | None = _fk("source_file.id", index=True)


class ArticleUrl(SQLModel, table=True):
    """Every URL key that identifies an article: its webUrl, ampWebUrl and cdnAmpWebUrl."""

    __tablename__ = "article_url"

    url_key: str = Field(primary_key=True, sa_type=Text)  # identity.url_key
    article_id: int = _fk("article.id", nullable=False, index=True, ondelete="CASCADE")


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
            "topic_id", "provider_id", "published_at", "article_id",
        ),
        Index("ix_article_topic_provider_id_topic_id_published_at", "provider_id", "topic_id", "published_at"),
    )  # fmt: skip

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    topic_id: int = Field(
        sa_column=Column(Integer, ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int
    # Copies of article.provider_id and article.published_at (no foreign key: adding
    # one would make SQLite rebuild the table under the views that read it).
    provider_id: int | None = None
    published_at: dt.datetime | None = None


class Image(SQLModel, table=True):
    __tablename__ = "image"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, sa_type=Text)  # exact match: image URLs are not normalized
    width: int | None = None
    height: int | None = None
    is_cached: bool | None = None
    extra: dict[str, Any] | None = Field(default=None, sa_type=_JSON)  # e.g. title, attribution


class ArticleImage(SQLModel, table=True):
    __tablename__ = "article_image"

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True)
    image_id: int = _fk("image.id", nullable=False, index=True)


class RelatedLink(SQLModel, table=True):
    __tablename__ = "related_link"

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True)
    related_article_id: int = _fk("article.id", nullable=False, index=True)


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
)
# Every table, in the order `archive stats` lists them (tests check none is missing).
TABLE_NAMES = (
    "article", "provider", "topic", "image", "article_topic", "article_image",
    "related_link", "article_url", "source_file",
)  # fmt: skip
