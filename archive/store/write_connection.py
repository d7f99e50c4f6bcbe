"""Connections to write an archive through, without SQLAlchemy.

The importer (and everything it calls) runs plain SQL on a DB-API connection:
sqlite3 for a SQLite file, psycopg for PostgreSQL. Loading SQLAlchemy, SQLModel
and the models took about 0.3 s and Alembic 0.08 s of every import; an archive
at the current schema revision needs none of them, so `open_archive` here checks
the revision with plain SQL (store/opening.py) and only hands over to
store/database.py (Alembic) when the archive is new or its revision is not the head.

`Connection` keeps the few names of SQLAlchemy's Connection that the write path
used (exec_driver_sql, begin, begin_nested, dialect.name), so that code and tests
written against either read alike; its errors are this module's, with the
driver's own exception in `orig`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .location import BUSY_TIMEOUT_MS, sqlite_uri

# SQLite page cache per connection: its default. Larger caches made the queries
# that build big temporary B-trees slower (0.66 -> 0.85 s at a million articles);
# the importer asks for its own (Archive.writer(cache_kib=...)).
CACHE_KIB = 2_000
# Extra PRAGMAs run on every new SQLite connection, after ours. Tests use it to
# simulate a full disk (PRAGMA max_page_count); keep it empty otherwise.
EXTRA_PRAGMAS: list[str] = []
# PostgreSQL: the key of the transaction-scoped advisory lock a writer holds (any
# constant the archive alone uses; it reads "archive" in ASCII).
WRITE_LOCK_KEY = 0x61726368697665


class DatabaseError(Exception):
    """A database error on the write path; the driver's exception is in `orig`."""

    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


class IntegrityError(DatabaseError):
    """A constraint refused a row."""


class OperationalError(DatabaseError):
    """Busy, locked, interrupted, disk full, I/O: the database could not do it."""


def is_lock_timeout(exc: BaseException) -> bool:
    """PostgreSQL's lock_timeout ran out (SQLSTATE 55P03): another writer held on."""
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "55P03"


@dataclass(frozen=True)
class Dialect:
    name: str  # "sqlite" or "postgresql"
    paramstyle: str  # "qmark" (sqlite3) or "format" (psycopg)


SQLITE = Dialect("sqlite", "qmark")
POSTGRESQL = Dialect("postgresql", "format")


def _iso_utc(value: dt.datetime) -> str:
    return _utc(value).replace(tzinfo=None).isoformat() + "Z"


def _utc(value: dt.datetime) -> dt.datetime:
    # As models.UTCTimestamp stores instants: aware, in UTC, to the second.
    if value.utcoffset() is None:
        raise ValueError("timestamps must be aware: archive stores instants in UTC")
    return value.astimezone(dt.timezone.utc).replace(microsecond=0)


def converter(kind: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a non-None value of a column of `kind` (store/columns.py) is bound: the
    values SQLAlchemy's bind processors made of it (tests/test_write_path.py)."""
    if kind == "timestamp":
        return _iso_utc if dialect.name == "sqlite" else _utc
    if kind == "json":
        if dialect.name == "sqlite":
            return json.dumps
        from psycopg.types.json import Json

        return Json
    return None


class Result:
    """A statement's rows, read as SQLAlchemy's Result was: scalar, first, all."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def scalar(self) -> Any:
        row = self._cursor.fetchone() if self._cursor.description else None
        return None if row is None else row[0]

    def first(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def all(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchall(self) -> list[tuple]:
        return self.all()

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.all())


class Transaction:
    """A transaction (or, nested, a savepoint); as a context manager it commits, or
    rolls back on an exception."""

    _names = itertools.count(1)

    def __init__(self, conn: Connection, *, nested: bool) -> None:
        self.conn = conn
        self.savepoint = f"sp_{next(self._names)}" if nested else None
        self.is_active = True

    def commit(self) -> None:
        if self.savepoint is not None:
            self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {self.savepoint}")
        else:
            self.conn.exec_driver_sql("COMMIT")
            self.conn.transaction = None
        self.is_active = False

    def rollback(self) -> None:
        self.is_active = False
        if self.savepoint is None:
            self.conn.transaction = None
        if not self.conn.in_transaction():
            return  # SQLite rolled back already (a full disk ends the whole transaction)
        if self.savepoint is not None:
            self.conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {self.savepoint}")
            self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {self.savepoint}")
        else:
            self.conn.exec_driver_sql("ROLLBACK")

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self.is_active:
            return
        if kind is None:
            self.commit()
        else:
            # The error that brought us here is the one to report.
            with contextlib.suppress(DatabaseError):
                self.rollback()


class Connection:
    """A DB-API connection in autocommit mode, whose transactions begin explicitly:
    a writer's (`write`) take the archive's write lock as they begin."""

    def __init__(self, driver: Any, dialect: Dialect, *, write: bool = False) -> None:
        self.driver_connection = driver
        self.dialect = dialect
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.write = write
        self.transaction: Transaction | None = None
        self._errors = _driver_errors(dialect)

    def exec_driver_sql(self, sql: str, params: Any = None) -> Result:
        """Run one statement; a list of parameter rows runs it once per row."""
        try:
            cursor = self.driver_connection.cursor()
            if isinstance(params, list):
                cursor.executemany(sql, params)
            elif params is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, params)
        except self._errors[2] as exc:
            raise self._wrapped(exc) from exc
        return Result(cursor)

    def _wrapped(self, exc: BaseException) -> DatabaseError:
        integrity, operational, _ = self._errors
        if isinstance(exc, integrity):
            return IntegrityError(exc)
        if isinstance(exc, operational):
            return OperationalError(exc)
        return DatabaseError(exc)

    def begin(self) -> Transaction:
        if self.transaction is not None:
            raise RuntimeError("a transaction is already open on this connection")
        if self.dialect.name == "sqlite":
            # A writer takes the write lock up front (IMMEDIATE), so two imports queue
            # behind the busy timeout instead of failing half-way with "database is locked".
            self.exec_driver_sql("BEGIN IMMEDIATE" if self.write else "BEGIN")
        else:
            self.exec_driver_sql("BEGIN")
            if self.write:
                try:
                    postgres_write_lock(self)
                except BaseException:
                    self.exec_driver_sql("ROLLBACK")
                    raise
        self.transaction = Transaction(self, nested=False)
        return self.transaction

    def begin_nested(self) -> Transaction:
        savepoint = Transaction(self, nested=True)
        self.exec_driver_sql(f"SAVEPOINT {savepoint.savepoint}")
        return savepoint

    def in_transaction(self) -> bool:
        if self.dialect.name == "sqlite":
            return bool(self.driver_connection.in_transaction)
        return self.driver_connection.info.transaction_status != 0  # psycopg: IDLE is 0

    def close(self) -> None:
        if self.in_transaction():
            self.driver_connection.rollback()
        self.transaction = None


def _driver_errors(dialect: Dialect) -> tuple[type, type, type]:
    if dialect.name == "sqlite":
        return sqlite3.IntegrityError, sqlite3.OperationalError, sqlite3.Error
    import psycopg

    return psycopg.IntegrityError, psycopg.OperationalError, psycopg.Error


def postgres_write_lock(connection: Any) -> None:
    """Take the writers' lock at the start of a write transaction, held until it ends.

    Writers hand out ids from max(id) (ingest/writer.py), which is safe only while
    one writer at a time runs: like SQLite's BEGIN IMMEDIATE, a writer's transaction
    first takes this lock, so two imports queue instead of colliding on ids.

    The lock is the alembic_version table's in SHARE ROW EXCLUSIVE mode, which
    conflicts with itself but not with reading, and which only a role that may change
    the table can take: a reader role (`db grant-reader`, SELECT only) cannot take it,
    nor hold anything that blocks it. An advisory lock, which any role may take,
    serves only an empty database, before the table exists (its creation). Waits
    end after the busy timeout (lock_timeout): the caller reports them as busy.
    """
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, BUSY_TIMEOUT_MS):d}")
    if connection.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is None:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
    else:
        connection.exec_driver_sql("LOCK TABLE alembic_version IN SHARE ROW EXCLUSIVE MODE")


def connect_sqlite(target: str, *, uri: bool = False, writing: bool = False) -> sqlite3.Connection:
    """A sqlite3 connection with the settings every archive connection needs."""
    driver = sqlite3.connect(
        target,
        uri=uri,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,  # transactions begin explicitly (Connection.begin)
        check_same_thread=False,
    )
    try:
        # Foreign keys are off by default; explicit cache size, so it does not
        # depend on how SQLite was compiled.
        driver.execute("PRAGMA foreign_keys = ON")
        driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        driver.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if target != ":memory:":
            driver.execute("PRAGMA synchronous = NORMAL")
            if writing and driver.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                _to_wal(driver)
        for pragma in EXTRA_PRAGMAS:
            driver.execute(pragma)
    except BaseException:
        driver.close()
        raise
    return driver


def _to_wal(driver: sqlite3.Connection) -> None:
    """An archive made before archive created files in WAL mode: switch it. Another
    connection that holds the file refuses the switch at once ("locked"); a later
    connection makes it."""
    try:
        driver.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise


class Archive:
    """An open archive database at the current schema revision.

    `open_driver(write)` gives a new DB-API connection and `release` takes it back;
    `on_close` frees what the opening kept (a PostgreSQL engine's pool).
    """

    def __init__(
        self,
        location: str,
        dialect: Dialect,
        open_driver: Callable[[], Any],
        release: Callable[[Any], None] = lambda driver: driver.close(),
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.location = location
        self.dialect = dialect
        self._open = open_driver
        self._release = release
        self._on_close = on_close

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._connection(write=False) as connection:
            yield connection

    @contextmanager
    def writer(self, *, cache_kib: int | None = None) -> Iterator[Connection]:
        """A connection whose transactions take the write lock when they begin.

        `cache_kib` gives it a larger page cache (SQLite only).
        """
        with self._connection(write=True) as connection:
            if cache_kib is not None and self.dialect.name == "sqlite":
                connection.driver_connection.execute(f"PRAGMA cache_size = -{cache_kib:d}")
            yield connection

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        driver = self._open()
        connection = Connection(driver, self.dialect, write=write)
        try:
            yield connection
        finally:
            try:
                connection.close()
            finally:
                self._release(driver)

    def close(self) -> None:
        self._on_close()


def sqlite_archive(location: str, path: str, mode: str) -> Archive:
    """An Archive of the SQLite file `path`, opened in location.open_mode's `mode`."""
    # Always a percent-encoded file: URI: SQLite builds that read URIs everywhere
    # would take a file named "file:x.db?mode=ro" for a URI (test_import_rules).
    uri = sqlite_uri(path, mode)
    writing = mode == "rw"
    return Archive(location, SQLITE, lambda: connect_sqlite(uri, uri=True, writing=writing))


def placeholder(conn: Any) -> str:
    """The driver's parameter marker: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def select_in(conn: Any, sql: str, values: Sequence[Any] | Any, chunk: int = 500) -> list[tuple]:
    """Run `sql`, whose `{marks}` slot takes one marker per value, over chunks of
    `values` (bound parameters per statement stay well under every driver's limit)."""
    rows: list[tuple] = []
    mark = placeholder(conn)
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        rows += conn.exec_driver_sql(
            sql.format(marks=", ".join([mark] * len(part))), tuple(part)
        ).all()
    return rows
