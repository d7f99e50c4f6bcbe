"""Limits that hold for every query `archive serve` runs, a visitor's SQL included.

Datasette stops a query at `sql_time_limit_ms` with a progress handler, which runs
between steps of SQLite's virtual machine; one step can take many seconds
(`printf('%.*c', 200000000, 'x')`), long enough for three such requests to hold
every SQL thread. So each query also runs under the watchdog at the same limit,
its values are limited to SERVE_VALUE_LIMIT_BYTES, and a value or memory limit is
reported as SQLite's own errors are: a page saying why (HTTP 400).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from ..store.sqlite_limits import (
    HARD_HEAP_LIMIT_BYTES,
    SERVE_VALUE_LIMIT_BYTES,
    WATCHDOG,
    limit_values,
    mebibytes,
)
from .log import log, shown

TOO_BIG = (
    f"a value would be longer than {mebibytes(SERVE_VALUE_LIMIT_BYTES)},"
    " the limit for one value in archive serve"
)
OUT_OF_MEMORY = (
    f"the query needed more than {mebibytes(HARD_HEAP_LIMIT_BYTES)} of memory,"
    " the limit for SQLite in archive serve"
)


def limited(connection: sqlite3.Connection) -> sqlite3.Connection:
    """`connection`, with the value limit for serve."""
    limit_values(connection, SERVE_VALUE_LIMIT_BYTES)
    return connection


class QueryLimits:
    """Mixed into Datasette's Database: every function it runs on a connection (each
    query) is interrupted at the time limit, and limits passed become SQL errors."""

    ds: Any

    async def execute_fn(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        def watched(connection: sqlite3.Connection) -> Any:
            seconds = self.ds.setting("sql_time_limit_ms") / 1000
            try:
                with WATCHDOG.limit(connection, seconds):
                    return fn(connection)
            except MemoryError:  # SQLITE_NOMEM: past the heap limit
                raise sqlite3.OperationalError(OUT_OF_MEMORY) from None
            except sqlite3.DataError as exc:
                if str(exc) == "string or blob too big":
                    raise sqlite3.OperationalError(TOO_BIG) from None
                raise

        return await super().execute_fn(watched)  # type: ignore[misc]

    async def execute(
        self, sql: str, *args: Any, log_sql_errors: bool = True, **kwargs: Any
    ) -> Any:
        # Datasette's own line for a failed query names the connection object and
        # the whole SQL, however long: this one is shorter, and said once.
        try:
            return await super().execute(sql, *args, log_sql_errors=False, **kwargs)  # type: ignore[misc]
        except sqlite3.Error as exc:
            if log_sql_errors:
                log(f"refused query: {shown(str(exc))}: {shown(sql)}", exc)
            raise
