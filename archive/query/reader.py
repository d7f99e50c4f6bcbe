"""A read connection for the query commands and the library, without SQLAlchemy.

The query commands used to start by importing SQLAlchemy, SQLModel and the models
(about half a second of every `archive providers ...`); `archive sql` never did.
They now open the archive the way `archive sql` does (readonly_sql.py: read-only,
`query_only`, busy timeout, the schema revision checked against
schema_version.HEAD_REVISION, exit 3 when it is not current) and run plain SQL with
`:name` parameters through sqlite3, or through psycopg for PostgreSQL
(readonly_pg.py). The questions write the SQL through sql.py, with a fragment per
dialect where the two differ.

Unlike `archive sql`, the SQL here is archive's own: no time limit, a superuser may
run it, and each command reads one snapshot (one read transaction), so an import
that commits meanwhile cannot make two of its statements disagree.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import ArchiveError
from ..store.location import is_url, resolve_location
from .readonly_sql import open_query

_cursor_names = itertools.count()


class Reader:
    """An open archive to ask questions of: `with open_reader("news.db") as reader:`.

    `dialect` is "sqlite" or "postgresql"; `execute` runs one statement with
    `:name` parameters and returns its column names and a stream of row tuples.
    """

    dialect: str
    location: str

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, stream: bool = False
    ) -> tuple[list[str], Iterator[tuple]]:
        raise NotImplementedError

    def path(self) -> Path | None:
        """The database file (SQLite), for its size; None for a server."""
        return None

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


class _SqliteReader(Reader):
    dialect = "sqlite"

    def __init__(self, location: str) -> None:
        self.location = location
        try:
            self._query = open_query(location)
        except sqlite3.Error as exc:  # e.g. a text file, if the opening lets it through
            raise ArchiveError(f"cannot open archive {location}: {exc}") from None
        connection = self._query.connection
        # readonly_sql's authorizer and time limit guard a user's SQL; this is our
        # own, and the authorizer would refuse the BEGIN that gives one snapshot.
        # The file stays opened read-only with query_only on.
        connection.set_authorizer(None)
        connection.set_progress_handler(None, 0)
        self._connection = connection
        # Closed before the connection: an unfinished statement (its rows never read,
        # because writing them failed) would keep the -wal/-shm files alive.
        self._cursors: list[sqlite3.Cursor] = []
        try:
            connection.execute("BEGIN")
        except sqlite3.Error as exc:
            self.close()
            raise ArchiveError(f"cannot read archive {location}: {exc}") from None

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, stream: bool = False
    ) -> tuple[list[str], Iterator[tuple]]:
        try:
            cursor = self._connection.execute(sql, dict(params or {}))
        except sqlite3.Error as exc:
            raise ArchiveError(str(exc)) from None
        self._cursors.append(cursor)
        columns = [d[0] for d in cursor.description or ()]
        return columns, self._stream(cursor)

    @staticmethod
    def _stream(cursor: sqlite3.Cursor) -> Iterator[tuple]:
        # Row by row (a dump's rows hold whole files); not `yield from cursor`, which
        # closes the cursor when a half-read stream is collected, perhaps after its
        # connection was closed.
        try:
            yield from iter(cursor.fetchone, None)
        except sqlite3.Error as exc:
            raise ArchiveError(str(exc)) from None

    def path(self) -> Path | None:
        location = self.location
        if is_url(location):
            from ..store.database import to_url  # SQLAlchemy loads only for a URL

            location = to_url(location).database or ""
        return Path(location)

    def close(self) -> None:
        for cursor in self._cursors:
            cursor.close()
        with suppress(sqlite3.Error):  # closing ends the transaction anyway
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
        self._query.close()


class _PostgresReader(Reader):
    dialect = "postgresql"

    def __init__(self, location: str) -> None:

        from ..store.database import require_driver, to_url

        # Asked before connecting, as open_archive does: without the driver there is
        # nothing to try, whatever the server says.
        require_driver(to_url(location))
        from .readonly_pg import ReadOnlyPostgresQuery, to_psycopg

        self.location = location
        self._to_psycopg = to_psycopg
        # Our own SQL may run as a superuser: the refusal protects a user's SQL.
        self._query: ReadOnlyPostgresQuery = open_query(location, allow_superuser=True)
        self._psycopg = self._query._psycopg
        connection = self._query.connection
        # One read-only transaction for the command (psycopg begins it on the first
        # statement); a server-side cursor needs one, too.
        connection.autocommit = False
        connection.read_only = True
        self._connection = connection

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, stream: bool = False
    ) -> tuple[list[str], Iterator[tuple]]:
        params = dict(params or {})
        text = self._to_psycopg(sql, params)
        try:
            if stream:
                # A server-side cursor, so memory does not grow with the rows (as
                # SQLAlchemy's yield_per did).
                cursor = self._connection.cursor(name=f"archive_rows_{next(_cursor_names)}")
                cursor.itersize = 1000
            else:
                cursor = self._connection.cursor()
            cursor.execute(text, params)
        except self._psycopg.Error as exc:
            raise ArchiveError(self._query._line(exc)) from None
        columns = [d.name for d in cursor.description or ()]
        return columns, self._stream(cursor)

    def _stream(self, cursor: Any) -> Iterator[tuple]:
        try:
            # Not `yield from cursor`, which would close it when collected (a query
            # sent while psycopg may be busy).
            for row in cursor:  # noqa: UP028
                yield row
            # Closed here, when read to the end, and not in a `finally`: a stream left
            # half-read (--limit) is closed by the end of the transaction instead of
            # by the garbage collector, which might run while psycopg is busy.
            cursor.close()
        except self._psycopg.Error as exc:
            raise ArchiveError(self._query._line(exc)) from None

    def close(self) -> None:
        with suppress(self._psycopg.Error):  # the connection is gone: so is its transaction
            self._connection.rollback()
        self._query.close()


def open_reader(location: str | None = None) -> Reader:
    """Open the archive at `location` (a file or a URL; default as for `--db`) for
    reading. Refuses, with an ArchiveError, a missing archive and one whose schema
    is not at the revision this version needs (SchemaOutOfDate)."""
    location = resolve_location(location)
    if is_url(location):
        from ..store.database import is_postgres, to_url  # SQLAlchemy loads only for a URL

        if is_postgres(to_url(location)):
            return _PostgresReader(location)
    return _SqliteReader(location)
