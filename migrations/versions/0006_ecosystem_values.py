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

from collections.abc import Sequence

from alembic import op

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


def _topics_of(article: str, as_json: bool) -> str:
    """SQL for an article's topic names, in record order: a JSON array, or (before
    this revision) comma-separated text."""
    links = (
        "FROM article_topic at JOIN topic t ON t.id = at.topic_id"
        f" WHERE at.article_id = {article}.id"
    )
    if _sqlite():
        aggregate = "json_group_array(name)" if as_json else "group_concat(name, ', ')"
        return f"(SELECT {aggregate} FROM (SELECT t.name {links} ORDER BY at.position))"
    if as_json:
        return f"(SELECT coalesce(json_agg(t.name ORDER BY at.position), '[]'::json) {links})"
    return f"(SELECT string_agg(t.name, ', ' ORDER BY at.position) {links})"


def _views(as_json: bool) -> dict[str, str]:
    stub = "a.is_stub = 0" if _sqlite() else "NOT a.is_stub"
    return {
        "article_summary": f"""
            SELECT a.id, a.url, a.title, a.excerpt, a.published_at, a.type, a.category,
                   a.quality, a.heat, a.published, a.is_stub,
                   p.name AS provider, p.domain AS domain,
                   {_topics_of("a", as_json)} AS topics
            FROM article a LEFT JOIN provider p ON p.id = a.provider_id""",
        "topic_article": """
            SELECT t.name AS topic, a.id AS article_id, a.url, a.title, a.published_at,
                   p.name AS provider, p.domain AS domain
            FROM article_topic at
            JOIN topic t ON t.id = at.topic_id
            JOIN article a ON a.id = at.article_id
            LEFT JOIN provider p ON p.id = a.provider_id""",
        "provider_summary": f"""
            SELECT p.id, p.name, p.domain, count(a.id) AS articles,
                   min(a.published_at) AS first_published, max(a.published_at) AS last_published
            FROM provider p LEFT JOIN article a ON a.provider_id = p.id AND {stub}
            GROUP BY p.id, p.name, p.domain""",
        "related_summary": """
            SELECT r.article_id, a.url AS article_url, r.position,
                   r.related_article_id, b.url AS related_url, b.title AS related_title,
                   p.name AS related_provider, p.domain AS related_domain
            FROM related_link r
            JOIN article a ON a.id = r.article_id
            JOIN article b ON b.id = r.related_article_id
            LEFT JOIN provider p ON p.id = b.provider_id""",
    }


def _fts(content: str) -> list[str]:
    """The search table (external content: the text stays in `article`) and the
    triggers that keep it in step, with `content` quoted as given."""
    return [
        "CREATE VIRTUAL TABLE article_fts USING fts5(title, excerpt, body,"
        f" content={content}, content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
        """CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END""",
        """CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
        END""",
        """CREATE TRIGGER article_fts_update AFTER UPDATE OF title, excerpt, body ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END""",
    ]


FTS_OBJECTS = ("article_fts_insert", "article_fts_delete", "article_fts_update")

# The copies in article_topic follow the article, whoever writes either table. The
# WHEN clauses make the importer (which writes them right) pay one lookup per link.
COPY_TRIGGERS = {
    "article_topic_copies_on_insert": """
        CREATE TRIGGER article_topic_copies_on_insert AFTER INSERT ON article_topic
        WHEN (new.provider_id, new.published_at) IS NOT
             (SELECT provider_id, published_at FROM article WHERE id = new.article_id)
        BEGIN
            UPDATE article_topic SET
                provider_id = (SELECT provider_id FROM article WHERE id = new.article_id),
                published_at = (SELECT published_at FROM article WHERE id = new.article_id)
            WHERE article_id = new.article_id AND topic_id = new.topic_id;
        END""",
    "article_topic_copies_on_update": """
        CREATE TRIGGER article_topic_copies_on_update
        AFTER UPDATE OF provider_id, published_at, article_id ON article_topic
        WHEN (new.provider_id, new.published_at) IS NOT
             (SELECT provider_id, published_at FROM article WHERE id = new.article_id)
        BEGIN
            UPDATE article_topic SET
                provider_id = (SELECT provider_id FROM article WHERE id = new.article_id),
                published_at = (SELECT published_at FROM article WHERE id = new.article_id)
            WHERE article_id = new.article_id AND topic_id = new.topic_id;
        END""",
    "article_copies_to_topics": """
        CREATE TRIGGER article_copies_to_topics
        AFTER UPDATE OF provider_id, published_at ON article
        WHEN (new.provider_id, new.published_at) IS NOT (old.provider_id, old.published_at)
        BEGIN
            UPDATE article_topic SET provider_id = new.provider_id, published_at = new.published_at
            WHERE article_id = new.id;
        END""",
}


def upgrade() -> None:
    for name in _views(as_json=False):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if _sqlite():
        for name in FTS_OBJECTS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_fts")
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
    for name, sql in _views(as_json=True).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
    if _sqlite():
        for sql in _fts('"article"'):
            op.execute(sql)
        for sql in COPY_TRIGGERS.values():
            op.execute(sql)


def downgrade() -> None:
    if _sqlite():
        for name in COPY_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name in FTS_OBJECTS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    for name in _views(as_json=True):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_constraint("fk_article_topic_provider_id_provider", type_="foreignkey")
    if _sqlite():
        for table, column in TIMESTAMPS:
            op.execute(
                f"UPDATE {table} SET {column} = strftime('{SQLALCHEMY}', {column})"
                f" WHERE {column} IS NOT NULL"
            )
    for name, sql in _views(as_json=False).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
    if _sqlite():
        for sql in _fts("'article'"):
            op.execute(sql)
