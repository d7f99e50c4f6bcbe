"""Query indexes that a first import builds once at its end instead of row by row.

These indexes serve the query commands only; the importer never reads them. Kept
up to date during an import, each new row lands at a scattered place in them, so
every commit rewrites pages all over the index, and more of them as the archive
grows. Built afterwards, they are one sorted pass: a 100,000-record import into
an empty archive took 56.5 s plus 1.5 s to build them, against 73 s keeping them.

Only an import into an archive without articles defers them (the first, large
load of a collection). Incremental imports keep them up to date, because
rebuilding them over a large archive would cost more than it saves (and a small
import, the common case, would otherwise pay for the whole archive's indexes).
While a first import runs, and if it is killed or fails before its end, queries
are correct but slower; an interrupted import's indexes are built by the next import.

Plain SQL on the write path's connection (store/write_connection.py); the indexes
are those the models mark query_only, as listed in store/columns.py.
"""

from __future__ import annotations

from typing import Any

from . import write_connection
from .columns import DEFERRED_INDEXES

# Their names, for the benchmark's limit pipeline and the tests.
DEFERRED = tuple(name for name, _table, _columns in DEFERRED_INDEXES)


def archive_is_empty(conn: Any) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM article LIMIT 1").first() is None


def drop(conn: Any) -> None:
    """Drop the deferred indexes, in the caller's transaction."""
    for name in DEFERRED:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def missing(conn: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    present = {name for (name,) in conn.exec_driver_sql(sql).all()}
    return [name for name in DEFERRED if name not in present]


def build(conn: Any) -> None:
    """Create whichever deferred indexes are missing, in the caller's transaction."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # SQLite-specific: CREATE INDEX sorts in memory up to the page cache's size,
        # on top of the cache. With the importer's 64 MB cache, building them at
        # 300,000 records took 121 MB more (and 5.4 s); with the default cache,
        # 2 MB more (and 3.9 s: the sort spills to temporary files in larger runs).
        saved = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = -{write_connection.CACHE_KIB:d}")
    try:
        for name, table, columns in DEFERRED_INDEXES:
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
            )
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(saved):d}")
