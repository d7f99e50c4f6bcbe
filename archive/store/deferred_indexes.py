"""Query indexes that a first import builds once at its end instead of row by row.

These indexes serve the query commands only; the importer never reads them. Kept
up to date during an import, each new row lands at a scattered place in them, so
every commit rewrites pages all over the index, and more of them as the archive
grows. Built afterwards, they are one sorted pass: a 100,000-record import into
an empty archive took 56.5 s plus 1.5 s to build them, against 73 s keeping them.

Only an import into an archive without articles defers them (the first, large
load of a collection). Incremental imports keep them up to date, because
rebuilding them over a large archive would cost more than it saves. While a first
import runs, and if it is killed or fails before its end, queries are correct
but slower; an interrupted import's indexes are built by the next import.
"""

from __future__ import annotations

from sqlalchemy import Connection, Index, inspect
from sqlalchemy.schema import CreateIndex, DropIndex

from . import database
from .models import SQLModel


def _deferred() -> list[Index]:
    return [
        index
        for table in SQLModel.metadata.tables.values()
        for index in sorted(table.indexes, key=lambda index: str(index.name))
        if index.info.get("query_only")
    ]


# Their names, for the benchmark's limit pipeline and the tests.
DEFERRED = tuple(str(index.name) for index in _deferred())


def archive_is_empty(conn: Connection) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM article LIMIT 1").first() is None


def drop(conn: Connection) -> None:
    """Drop the deferred indexes, in the caller's transaction."""
    for index in _deferred():
        conn.execute(DropIndex(index, if_exists=True))


def missing(conn: Connection) -> list[str]:
    tables = {str(index.table.name) for index in _deferred()}  # type: ignore[union-attr]
    inspector = inspect(conn)
    present = {index["name"] for table in tables for index in inspector.get_indexes(table)}
    return [name for name in DEFERRED if name not in present]


def build(conn: Connection) -> None:
    """Create whichever deferred indexes are missing, in the caller's transaction."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # SQLite-specific: CREATE INDEX sorts in memory up to the page cache's size,
        # on top of the cache. With the importer's 64 MB cache, building them at
        # 300,000 records took 121 MB more (and 5.4 s); with the default cache,
        # 2 MB more (and 3.9 s: the sort spills to temporary files in larger runs).
        saved = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = -{database.CACHE_KIB:d}")
    try:
        for index in _deferred():
            conn.execute(CreateIndex(index, if_not_exists=True))
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(saved):d}")
