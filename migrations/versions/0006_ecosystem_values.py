"""Values the SQLite ecosystem reads right: ISO timestamps, detectable search, topic arrays

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- Timestamps were SQLAlchemy's `2020-08-17 18:08:00.000000`; the records, the query
  commands and JSON say `2020-08-17T18:08:00Z`. In SQL, `published_at >=
  '2020-08-17T00:00:00Z'` silently dropped that day, and pandas read them as naive.
  They are now ISO 8601 UTC text of fixed width, to the second (SQLite only: other
  databases keep a timestamp type).
- The search table was declared `content='article'`; Datasette and sqlite-utils only
  recognise `content="article"`, so their search boxes did not appear. It is declared
  again and rebuilt.
- article_summary.topics is a JSON array (Datasette's `_facet_array=topics` counts
  topics; `json_each` reads it), no longer a comma-joined string.
- article_topic.provider_id gets its foreign key, and triggers keep the copies of
  the article's provider and publication time in article_topic right whatever tool
  writes the rows (the sqlite3 shell, a Datasette plugin, sqlite-utils).
"""

from __future__ import annotations

import runpy
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from alembic import op

objects = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).resolve().parents[1] / "support" / "objects.py"))
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMPS = (
    ("article", "published_at"),
    ("article_topic", "published_at"),
    ("source_file", "imported_at"),
)
ISO = "%Y-%m-%dT%H:%M:%SZ"
SQLALCHEMY = "%Y-%m-%d %H:%M:%S.000000"  # what 0005 and earlier stored


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


# This revision's views and SQLite triggers: migrations/objects/<name>.0006[.<dialect>].sql.
# Going down restores the versions of 0002, which this revision replaced.
VIEWS = ("article_summary", "topic_article", "provider_summary", "related_summary")
FTS_OBJECTS = ("article_fts_insert", "article_fts_delete", "article_fts_update")
# The copies in article_topic follow the article, whoever writes either table. The
# WHEN clauses make the importer (which writes them right) pay one lookup per link.
COPY_TRIGGERS = (
    "article_topic_copies_on_insert",
    "article_topic_copies_on_update",
    "article_copies_to_topics",
)


def _create_search(version: str) -> None:
    """The search table (external content: the text stays in `article`), filled, and
    the triggers that keep it in step. 0006 declares it `content="article"`."""
    objects.create(op, "article_fts", version)
    op.execute("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
    for name in FTS_OBJECTS:
        objects.create(op, name, version)


def _drop_search() -> None:
    for name in FTS_OBJECTS:
        objects.drop(op, "TRIGGER", name)
    objects.drop(op, "TABLE", "article_fts")


def upgrade() -> None:
    for name in VIEWS:
        objects.drop(op, "VIEW", name)
    if _sqlite():
        _drop_search()
        for table, column in TIMESTAMPS:
            op.execute(
                f"UPDATE {table} SET {column} = strftime('{ISO}', {column})"
                f" WHERE {column} IS NOT NULL"
            )
    # Rebuilds article_topic in SQLite (a foreign key cannot be added in place); the
    # views that read it were dropped above.
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_article_topic_provider_id_provider", "provider", ["provider_id"], ["id"]
        )
    for name in VIEWS:
        objects.create(op, name, "0006")
    if _sqlite():
        _create_search("0006")
        for name in COPY_TRIGGERS:
            objects.create(op, name, "0006")


def downgrade() -> None:
    if _sqlite():
        for name in COPY_TRIGGERS:
            objects.drop(op, "TRIGGER", name)
        _drop_search()
    for name in VIEWS:
        objects.drop(op, "VIEW", name)
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_constraint("fk_article_topic_provider_id_provider", type_="foreignkey")
    if _sqlite():
        for table, column in TIMESTAMPS:
            op.execute(
                f"UPDATE {table} SET {column} = strftime('{SQLALCHEMY}', {column})"
                f" WHERE {column} IS NOT NULL"
            )
    for name in VIEWS:
        objects.create(op, name, "0002")
    if _sqlite():
        _create_search("0002")
