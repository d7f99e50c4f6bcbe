"""`archive stats`: rows per table, the date range, the file's size, the revision."""

from __future__ import annotations

from typing import Any

from ..rows import Rows
from .reader import Reader
from .sql import Sql
from .values import instant

# Every table, in the order `archive stats` lists them. A copy of models.TABLE_NAMES,
# which would load SQLModel; tests/test_library.py checks that the two agree.
TABLE_NAMES = (
    "article", "provider", "topic", "image", "article_topic", "article_image",
    "related_link", "article_url", "source_file", "collection",
    "story", "article_story", "story_band",
)  # fmt: skip


def stats(conn: Reader) -> Rows:
    """Rows per table, date range, database size (SQLite) and schema revision."""
    q = Sql(conn)
    rows: list[tuple[str, Any]] = [
        (f"rows in {table}", q.scalar(f"SELECT count(*) FROM {table}")) for table in TABLE_NAMES
    ]
    own, stubs, first, last = q.all(
        f"SELECT sum(CASE WHEN article.is_stub IS {q.true} THEN 0 ELSE 1 END),"
        f" sum(CASE WHEN article.is_stub IS {q.true} THEN 1 ELSE 0 END),"
        " min(article.published_at), max(article.published_at) FROM article"
    )[0]
    rows += [
        ("articles with own record", own or 0),
        ("articles known only from related entries", stubs or 0),
        ("first published", instant(first)),
        ("last published", instant(last)),
    ]
    path = conn.path()
    if path is not None and path.exists():
        wal = path.with_name(path.name + "-wal")
        size = sum(p.stat().st_size for p in (path, wal) if p.exists())
        rows.append(("database size (MB)", round(size / 1e6, 2)))
    rows.append(("schema revision", q.scalar("SELECT version_num FROM alembic_version")))
    return Rows(["metric", "value"], iter(rows))
