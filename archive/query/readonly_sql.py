"""Run a user's own SQL against the archive without letting it change anything.

SQLite-specific, on purpose: the guarantee rests on locks that back each other up,
each of which refuses a write on its own (tests/test_sql_safety.py switches all
but one off to show it):
1. The file is opened read-only (`mode=ro` URI), so SQLite itself refuses writes.
2. A deny-by-default authorizer allows only reading: SELECT, reads of columns,
   recursive CTEs, ordinary functions and a list of informational PRAGMAs. It
   refuses ATTACH, PRAGMA assignments (so `query_only` cannot be switched off),
   load_extension, transactions, VACUUM and every kind of write.
3. `PRAGMA query_only`. Alone it would not be enough, since a statement could
   switch it off; the authorizer refuses that statement.
Extension loading also stays off, as SQLite starts it: nothing here turns it on.
Time and memory are bounded by store/sqlite_limits.py: a watchdog interrupts a
query at its deadline, however long its single steps are, and no value may be
longer than VALUE_LIMIT_BYTES. A progress handler lets Ctrl-C in between steps.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import ArchiveError, ArchiveUnavailable, BusyError, QueryLimitError, UsageError
from ..rows import Rows
from ..store.location import (
    BUSY_TIMEOUT_MS,
    is_url,
    open_mode,
    sidecars_exist,
    sqlite_uri,
    tidy_sidecars,
    unsafe_read,
)
from ..store.schema_version import HEAD_REVISION, check_revision
from ..store.sqlite_limits import (
    HARD_HEAP_LIMIT_BYTES,
    VALUE_LIMIT_BYTES,
    WATCHDOG,
    limit_values,
    mebibytes,
)
from .names import EXPORTABLE, export_key, ordered_by_key, quoted
from .topic_lists import topic_lists, topic_texts

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TIMEOUT = 30.0


def _json(value: bytes) -> Any:
    import json  # here: json's import compiles six regular expressions at start

    try:
        return json.loads(value)
    except ValueError:  # not JSON after all (written by another tool): the text as it is
        return value.decode("utf-8", "replace")


# Process-wide, by declared type: only connections opened with PARSE_DECLTYPES use them.
sqlite3.register_converter("BOOLEAN", lambda value: value not in (b"0", b""))
sqlite3.register_converter("JSON", _json)

_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "zipfile"}
# PRAGMAs that only report, whatever their argument.
_INFO_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "collation_list", "function_list", "module_list",
    "pragma_list", "database_list", "compile_options", "integrity_check", "quick_check",
}  # fmt: skip
# PRAGMAs that may be read (no argument) but never set.
_READ_PRAGMAS = {
    "user_version", "schema_version", "application_id", "page_count", "page_size",
    "freelist_count", "encoding", "journal_mode", "data_version", "query_only", "foreign_keys",
    "auto_vacuum", "cache_size", "max_page_count",
}  # fmt: skip


def _authorize(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _source: str | None
) -> int:
    if action in _READ_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return (
            sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
        )
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in _INFO_PRAGMAS or (name in _READ_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        # SQLite 3.40 reports this for table-valued PRAGMA functions such as
        # pragma_table_info('article') while it reads the schema; the connection is
        # read-only, so no update of the schema can happen.
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


# SQLite's answers when a read-only connection finds no -shm file it may use: it
# would have to create or initialise one, and may not.
_NO_SHM = {"SQLITE_READONLY_DIRECTORY", "SQLITE_READONLY_CANTINIT", "SQLITE_READONLY_RECOVERY"}


def _without_shm(exc: BaseException) -> bool:
    return getattr(exc, "sqlite_errorname", "") in _NO_SHM


def _connect(uri: str) -> sqlite3.Connection:
    """A read-only connection; declared types give values their meaning, as the
    query commands do: BOOLEAN columns as true/false, JSON columns (extra) as JSON."""
    return sqlite3.connect(
        uri,
        uri=True,
        isolation_level=None,
        check_same_thread=False,
        detect_types=sqlite3.PARSE_DECLTYPES,
    )


def _open_error(exc: sqlite3.Error, location: str, path: Path) -> Exception:
    """What a failure to open the archive means, in words."""
    if "locked" in str(exc) or "busy" in str(exc):
        return BusyError(
            f"the archive {location} is busy: another process kept it locked for"
            f" {BUSY_TIMEOUT_MS / 1000:g} s; try again when it has finished"
        )
    if "not a database" in str(exc):
        return ArchiveUnavailable(f"{location} is not an archive: it is not a SQLite database file")
    if _without_shm(exc):
        # Its -shm file went away between open_mode's look and the opening.
        return unsafe_read(path)
    return ArchiveUnavailable(f"cannot open {location} read-only: {exc}")


def open_query(
    location: str, *, timeout: float = DEFAULT_TIMEOUT, allow_superuser: bool = False
) -> ReadOnlyQuery | Any:
    """A read-only query runner for the archive at `location`: SQLite's (this module)
    or PostgreSQL's (readonly_pg.py); both have run(), names() and close()."""
    if is_url(location):
        from ..store.database import is_postgres, to_url  # SQLAlchemy loads only for a URL

        if is_postgres(to_url(location)):
            from .readonly_pg import ReadOnlyPostgresQuery

            return ReadOnlyPostgresQuery(location, timeout=timeout, allow_superuser=allow_superuser)
    return ReadOnlyQuery(location, timeout=timeout)


class ReadOnlyQuery:
    """A read-only connection to an archive file, for one user query at a time."""

    def __init__(self, location: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if is_url(location):
            from ..store.database import to_url  # SQLAlchemy loads only for a URL

            url = to_url(location)  # refuses what is neither SQLite nor PostgreSQL
            if not url.database:
                raise ArchiveUnavailable(f"cannot open {location}: it names no database file")
            path = Path(url.database)
        else:
            path = Path(location)
        # Refuses, in words, a missing file, a folder, a file that is not SQLite, and
        # a read that could see an import half-written (location.open_mode).
        self._mode = open_mode(str(path))
        self.timeout = timeout
        uri = sqlite_uri(str(path), "immutable" if self._mode == "immutable" else "ro")
        # A read-only connection to a WAL database creates -wal/-shm files it cannot
        # remove; remember whether they were there, to tidy up after ourselves.
        self._path = path
        self._watch: int | None = None  # the watchdog's ticket for the running query
        self._cursors: list[sqlite3.Cursor] = []
        self._sidecars_existed = sidecars_exist(path)
        try:
            self.connection = _connect(uri)
            self.connection.execute("PRAGMA query_only = 1")
            self.connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            revision = self._revision()
        except sqlite3.Error as exc:
            if hasattr(self, "connection"):
                self.close()
            raise _open_error(exc, location, path) from None
        if revision is None and not self._has_tables():
            self.close()
            raise ArchiveUnavailable(
                f"{location} is an empty database, not an archive yet: `archive import PATH`"
                " creates the archive in it"
            )
        if revision != HEAD_REVISION:
            self.close()
            from ..store.database import _known_revisions  # Alembic loads only for an old archive

            check_revision(
                location, revision or None, _known_revisions, empty_version_table=revision == ""
            )
        self.connection.set_authorizer(_authorize)
        limit_values(self.connection)
        self._deadline = 0.0
        self.connection.set_progress_handler(self._check_time, 10_000)

    def _has_tables(self) -> bool:
        return self.connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None

    def _revision(self) -> str | None:
        """The schema revision; "" for an empty version table, None for none."""
        has_table = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = self.connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else ""

    def _check_time(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def _failure(self, exc: BaseException) -> BaseException:
        """The error to raise for a failed statement.

        Ctrl-C while SQLite runs raises KeyboardInterrupt inside the progress
        handler, which sqlite3 turns into "interrupted"; that is the user's
        interruption, not the time limit, and is raised as such.
        """
        self._unwatch()
        if str(exc) == "interrupted" and time.monotonic() <= self._deadline:
            return KeyboardInterrupt()
        if _without_shm(exc):
            return unsafe_read(self._path)
        limit = self._limit_passed(exc)
        if limit:
            return QueryLimitError(limit)
        return ArchiveError(self._explain(exc))

    def _limit_passed(self, exc: BaseException) -> str | None:
        """The limit a failure is about, in words; None for any other failure."""
        if isinstance(exc, MemoryError):  # SQLITE_NOMEM: past the heap limit
            return (
                "query stopped: it needed more than"
                f" {mebibytes(HARD_HEAP_LIMIT_BYTES)} of memory (the limit for SQLite)"
            )
        message = str(exc)
        if message == "interrupted":
            return f"query interrupted: it ran longer than {self.timeout:g} s (--timeout)"
        if message == "string or blob too big":
            return (
                "query stopped: it made a value longer than"
                f" {mebibytes(VALUE_LIMIT_BYTES)} (the limit for one value)"
            )
        return None

    def _unwatch(self) -> None:
        if self._watch is not None:
            WATCHDOG.stop(self._watch)
            self._watch = None

    def run(
        self, sql: str, params: Mapping[str, Any] | None = None, *, topics_as_text: bool = False
    ) -> Rows:
        """Run one statement; rows stream. Errors become one-line ArchiveErrors.

        A `topics` column's arrays come as lists, or with `topics_as_text` as the
        JSON text CSV and TSV write of those lists (faster, for exports)."""
        if not sql.strip():
            raise UsageError(
                "no SQL given: write one statement, e.g. 'SELECT * FROM article_summary'"
            )
        self._unwatch()
        self._deadline = time.monotonic() + self.timeout
        # Until the last row is read: SQLite computes rows as they are fetched.
        self._watch = watch = WATCHDOG.start(self.connection, self.timeout)
        try:
            cursor = self.connection.execute(sql, dict(params or {}))
            self._cursors.append(cursor)
        except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError, MemoryError) as exc:
            # A :name without -p is the user's omission, not an SQL error: say how.
            missing = re.search(r"value for binding parameter :(\w+)", str(exc))
            if missing:
                self._unwatch()
                raise UsageError(
                    f"no value for :{missing[1]}: give one with -p {missing[1]} VALUE"
                ) from None
            raise self._failure(exc) from None
        columns = [d[0] for d in cursor.description or ()]
        rows = self._stream(cursor, watch)
        if "topics" in columns:
            rows = (topic_texts if topics_as_text else topic_lists)(columns.index("topics"), rows)
        return Rows(columns, rows)

    def _stream(self, cursor: sqlite3.Cursor, watch: int) -> Iterator[tuple]:
        try:
            # Row by row, not in batches: a row may hold values of up to
            # VALUE_LIMIT_BYTES, and a thousand of them would not fit in memory.
            # A for loop, not `yield from`: closing an abandoned stream must not call
            # cursor.close(), which fails once the connection is closed.
            for row in cursor:  # noqa: UP028 (see above)
                yield row
        except (sqlite3.Error, MemoryError) as exc:
            raise self._failure(exc) from None
        finally:
            # This query's watch only: an abandoned stream may end after the next run().
            WATCHDOG.stop(watch)

    def names(self) -> list[str]:
        """The tables and views a user may export, tables first."""
        rows = self.run(f"SELECT name FROM sqlite_master WHERE {EXPORTABLE} ORDER BY type, name")
        return [name for (name,) in rows.rows]

    def select_all(self, name: str) -> str:
        """Every row of table or view `name`, ordered by its key (names.export_key)."""
        info = self.connection.execute(
            "SELECT name, pk FROM pragma_table_info(?) ORDER BY pk", (name,)
        ).fetchall()
        key = export_key(name, [c for c, pk in info if pk], [c for c, _pk in info])
        return f"SELECT * FROM {quoted(name)}{ordered_by_key(name, key)}"

    def _explain(self, exc: BaseException) -> str:
        message = str(exc)
        if (
            "not authorized" in message
            or "authorization denied" in message
            or "prohibited" in message
        ):
            return f"not allowed: archive sql is read-only ({message})"
        if "attempt to write a readonly database" in message:
            return "not allowed: archive sql is read-only"
        if "one statement at a time" in message:
            return "one statement at a time, please (no ';' between statements)"
        if message.startswith("no such table"):
            return f"SQL error: {message} (tables and views: {', '.join(self.names())})"
        return f"SQL error: {message}"

    def close(self) -> None:
        # A statement left unfinished (its rows never read, because writing them
        # failed) would keep the connection alive past close(), and the -wal/-shm
        # files with it.
        self._unwatch()
        for cursor in self._cursors:
            cursor.close()
        self.connection.close()
        if not self._sidecars_existed and self._mode != "immutable":
            tidy_sidecars(self._path)
