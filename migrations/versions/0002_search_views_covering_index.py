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

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _topics_of(article: str) -> str:
    """SQL for an article's topic names, in the record's order, comma-separated."""
    if op.get_bind().dialect.name == "sqlite":
        return (
            "(SELECT group_concat(name, ', ') FROM (SELECT t.name FROM article_topic at"
            f" JOIN topic t ON t.id = at.topic_id WHERE at.article_id = {article}.id"
            " ORDER BY at.position))"
        )
    return (
        "(SELECT string_agg(t.name, ', ' ORDER BY at.position) FROM article_topic at"
        f" JOIN topic t ON t.id = at.topic_id WHERE at.article_id = {article}.id)"
    )


def _not_stub(article: str) -> str:
    """SQL for "an own record". SQLite keeps the exact text it always had (its stored
    view definition stays as existing archives have it); PostgreSQL has no
    boolean = integer operator."""
    if op.get_bind().dialect.name == "sqlite":
        return f"{article}.is_stub = 0"
    return f"NOT {article}.is_stub"


VIEWS = {
    "article_summary": lambda: (
        f"""
        SELECT a.id, a.url, a.title, a.excerpt, a.published_at, a.type, a.category,
               a.quality, a.heat, a.published, a.is_stub,
               p.name AS provider, p.domain AS domain,
               {_topics_of("a")} AS topics
        FROM article a LEFT JOIN provider p ON p.id = a.provider_id
    """
    ),
    "topic_article": lambda: (
        """
        SELECT t.name AS topic, a.id AS article_id, a.url, a.title, a.published_at,
               p.name AS provider, p.domain AS domain
        FROM article_topic at
        JOIN topic t ON t.id = at.topic_id
        JOIN article a ON a.id = at.article_id
        LEFT JOIN provider p ON p.id = a.provider_id
    """
    ),
    "provider_summary": lambda: (
        f"""
        SELECT p.id, p.name, p.domain, count(a.id) AS articles,
               min(a.published_at) AS first_published, max(a.published_at) AS last_published
        FROM provider p LEFT JOIN article a ON a.provider_id = p.id AND {_not_stub("a")}
        GROUP BY p.id, p.name, p.domain
    """
    ),
    "related_summary": lambda: (
        """
        SELECT r.article_id, a.url AS article_url, r.position,
               r.related_article_id, b.url AS related_url, b.title AS related_title,
               p.name AS related_provider, p.domain AS related_domain
        FROM related_link r
        JOIN article a ON a.id = r.article_id
        JOIN article b ON b.id = r.related_article_id
        LEFT JOIN provider p ON p.id = b.provider_id
    """
    ),
}

FTS_TRIGGERS = {
    "article_fts_insert": """
        CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END""",
    "article_fts_delete": """
        CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
        END""",
    "article_fts_update": """
        CREATE TRIGGER article_fts_update AFTER UPDATE OF title, excerpt, body ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END""",
}


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
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql()}")
    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5: the text stays in `article`; the index follows it.
        op.execute(
            "CREATE VIRTUAL TABLE article_fts USING fts5(title, excerpt, body,"
            " content='article', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
        for sql in FTS_TRIGGERS.values():
            op.execute(sql)
    elif op.get_bind().dialect.name == "postgresql":
        for sql in POSTGRES_SEARCH:
            op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    elif op.get_bind().dialect.name == "postgresql":
        for sql in POSTGRES_SEARCH_DOWN:
            op.execute(sql)
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_id_provider_id_published_at_is_stub")
