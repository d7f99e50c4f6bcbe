"""Full-text search, views for common questions, covering index for hot queries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The views are part of the public SQL interface (README: Views). The full-text
index is SQLite FTS5, kept in sync with `article` by triggers. On PostgreSQL it
is a generated tsvector column, article.search_vector, over the same three
columns with a GIN index; its text search configuration `archive_search` reads
words as FTS5's unicode61 tokenizer does (lower case, accents removed via the
unaccent extension, no stemming). The models do not describe either
(migrations/env.py leaves them out of the comparison).
"""

import runpy
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from alembic import op

objects = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).resolve().parents[1] / "support" / "objects.py"))
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The views and SQLite's search triggers, as this revision created them:
# migrations/objects/<name>.0002[.<dialect>].sql.
VIEWS = ("article_summary", "topic_article", "provider_summary", "related_summary")
FTS_TRIGGERS = ("article_fts_insert", "article_fts_delete", "article_fts_update")


# PostgreSQL's search: a configuration without stemming whose words lose their
# accents (as FTS5's `remove_diacritics 2`), and a column the server keeps in step.
# The weights let ts_rank prefer a match in the title, as bm25 prefers short columns.
POSTGRES_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION archive_search (COPY = pg_catalog.simple)",
    "ALTER TEXT SEARCH CONFIGURATION archive_search"
    " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
    "ALTER TABLE article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    " setweight(to_tsvector('archive_search'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('archive_search'::regconfig, coalesce(excerpt, '')), 'B')"
    " || setweight(to_tsvector('archive_search'::regconfig, coalesce(body, '')), 'C')) STORED",
    "CREATE INDEX ix_article_search_vector ON article USING gin (search_vector)",
)
POSTGRES_SEARCH_DOWN = (
    "DROP INDEX IF EXISTS ix_article_search_vector",
    "ALTER TABLE article DROP COLUMN IF EXISTS search_vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS archive_search",
)


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_id_provider_id_published_at_is_stub",
            ["id", "provider_id", "published_at", "is_stub"],
            unique=False,
        )
    for name in VIEWS:
        objects.create(op, name, "0002")
    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5: the text stays in `article`; the index follows it.
        objects.create(op, "article_fts", "0002")
        op.execute("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
        for name in FTS_TRIGGERS:
            objects.create(op, name, "0002")
    elif op.get_bind().dialect.name == "postgresql":
        for sql in POSTGRES_SEARCH:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            objects.drop(op, "TRIGGER", name)
        op.execute("DROP TABLE IF EXISTS article_fts")
    elif op.get_bind().dialect.name == "postgresql":
        for sql in POSTGRES_SEARCH_DOWN:
            op.execute(sql)
    for name in VIEWS:
        objects.drop(op, "VIEW", name)
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_id_provider_id_published_at_is_stub")
