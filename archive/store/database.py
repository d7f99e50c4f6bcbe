"""Opening an archive: engines, connection settings, the write lock, and refusing an
archive whose schema is not current.

Alembic owns the schema. A new database is created at the newest revision; an
existing one at an older revision is left alone until the user runs
`archive db upgrade` (store/migrate.py), because upgrading rewrites their data file.
Alembic's scripts and revisions are in store/revisions.py, backups in
store/backup.py, PostgreSQL roles in store/postgres_roles.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection

from ..errors import ArchiveError, ArchiveUnavailable
from . import migrate, postgres_roles
from .failures import is_lock_timeout  # noqa: F401 - callers import it from here
from .failures import one_line as _one_line  # noqa: F401 - likewise
from .failures import open_error as _open_error
from .location import BUSY_TIMEOUT_MS, resolve_location, shown, sqlite_uri
from .revisions import (  # noqa: F401 - the names callers have always imported from here
    SchemaChange,
    alembic_config,
    alembic_head_revision,
    current_revision,
    history,
)
from .revisions import known_revisions as _known_revisions
from .revisions import table_names as _table_names
from .schema_version import HEAD_REVISION, check_revision
from .urls import (  # noqa: F401 - likewise
    POSTGRES_DRIVER_HINT,
    is_postgres,
    require_driver,
    to_url,
)
from .urls import file_mode as _file_mode
from .urls import is_sqlite as _is_sqlite

# SQLite page cache per connection: its default. Larger caches made the queries
# that build big temporary B-trees slower (0.66 -> 0.85 s at a million articles);
# the importer asks for its own (Archive.writer(cache_kib=...)).
CACHE_KIB = 2_000
# Extra PRAGMAs run on every new connection, after ours. Tests use it to simulate
# a full disk (PRAGMA max_page_count); keep it empty otherwise.
EXTRA_PRAGMAS: list[str] = []


# PostgreSQL: the key of the transaction-scoped advisory lock a writer holds (any
# constant the archive alone uses; it reads "archive" in ASCII).
WRITE_LOCK_KEY = 0x61726368697665


def create_archive_engine(location: str, *, mode: str = "rw", writing: bool = True) -> Engine:
    """An engine for the archive; `mode` (SQLite files: location.open_mode's answer)
    "ro" or "immutable" opens the file read-only. `writing` puts a new SQLite file
    in WAL mode (open_archive an existing archive): never a file that is no archive."""
    url = to_url(location)
    if is_postgres(url):
        return _postgres_engine(url)
    timeout = BUSY_TIMEOUT_MS / 1000
    if mode != "rw" and url.database:
        import sqlite3

        uri = sqlite_uri(url.database, mode)
        engine = create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=timeout, check_same_thread=False
            ),
        )
    else:
        engine = create_engine(url, connect_args={"timeout": timeout})

    # SQLite-specific: the settings every connection needs. WAL lets readers see a
    # consistent snapshot while an import writes; foreign keys are off by default.
    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT (which per-file
        # all-or-nothing relies on); we issue BEGIN ourselves in _begin below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Explicit, so it does not depend on how SQLite was compiled.
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if url.database and url.database != ":memory:":
            if writing and cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
                _to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        for pragma in EXTRA_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A writer takes the write lock up front (IMMEDIATE), so two imports queue
        # behind the busy timeout instead of failing half-way with "database is locked".
        immediate = connection.get_execution_options().get("archive_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _to_wal(cursor: Any) -> None:
    """Put a new, empty file in WAL mode.

    Several imports that start together on a new file all try it; the switch
    takes the file's exclusive lock, and SQLite refuses a second at once ("database
    is locked", no busy wait) rather than deadlock. That one is switching it
    already: the file ends in WAL mode either way (open_archive checks again).
    """
    import sqlite3

    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise


def _postgres_engine(url: URL) -> Engine:
    require_driver(url)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Day buckets (timeline) and the timestamps the queries print follow the
        # session time zone; the archive's answers must not depend on the server's
        # setting or the user's PGTZ. Set after connecting, so nothing overrides it.
        cursor = dbapi_connection.cursor()
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()
        dbapi_connection.commit()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get("archive_write", False):
            _postgres_write_lock(connection)

    return engine


def _postgres_write_lock(connection: Connection) -> None:
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


class Archive:
    """An open archive database at the current schema revision."""

    def __init__(self, location: str, engine: Engine) -> None:
        self.location = location
        self.engine = engine

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def writer(self, *, cache_kib: int | None = None) -> Iterator[Connection]:
        """A connection whose transactions take the write lock when they begin.

        `cache_kib` gives it a larger page cache while it is in use (SQLite only).
        """
        with self.engine.connect() as connection:
            resize = cache_kib is not None and connection.dialect.name == "sqlite"
            if resize:  # SQLite-specific: on the raw connection, so no transaction begins
                connection.connection.driver_connection.execute(
                    f"PRAGMA cache_size = -{cache_kib:d}"
                )
            try:
                yield connection.execution_options(archive_write=True)
            finally:
                if resize and not connection.closed and not connection.invalidated:
                    connection.connection.driver_connection.execute(
                        f"PRAGMA cache_size = -{CACHE_KIB}"
                    )

    def close(self) -> None:
        self.engine.dispose()


def open_archive(location: str | None = None, *, create: bool = True) -> Archive:
    """Open the archive; refuse one whose schema is not current.

    `create` (importing): create the archive if it is new; the file must be
    writable. Otherwise (reading): the archive must exist, nothing is created or
    written, and a file that cannot be written is opened read-only.
    """
    location = resolve_location(location)
    url = to_url(location)
    mode = _file_mode(url, create=create, write=create)
    engine = create_archive_engine(location, mode=mode, writing=create)
    try:
        with engine.connect() as connection:
            with connection.begin():
                current = current_revision(connection)
                tables = _table_names(connection)
            if current is None and not tables:
                if not create:
                    raise ArchiveUnavailable(
                        f"{shown(location)} is an empty database, not an archive yet:"
                        " `archive import PATH` creates the archive in it"
                    )
                current, tables = _create_schema(connection, url)
        if current != HEAD_REVISION:
            engine.dispose()
            check_revision(
                shown(location),
                current,
                _known_revisions,
                empty_version_table=current is None and tables == {"alembic_version"},
            )
        if create and _is_sqlite(url):
            # An archive made before archive created files in WAL mode; outside a
            # transaction, as SQLite requires.
            with engine.connect() as connection:
                raw = connection.connection.driver_connection
                if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    raw.execute("PRAGMA journal_mode = WAL")
    except ArchiveError:
        engine.dispose()
        raise
    except Exception as exc:
        engine.dispose()
        raise _open_error(location, exc) from exc
    return Archive(location, engine)


def _create_schema(connection: Connection, url: URL) -> tuple[str | None, set[str]]:
    """Create the schema in an empty database; (revision, tables found before).

    Under the write lock, and looking again once it is held: two imports that start
    at once on a new file both saw it empty, both created the schema, and one failed
    with "database is locked". The second now waits, then finds the schema made.
    """
    locked = connection.execution_options(archive_write=True)  # SQLite: BEGIN IMMEDIATE
    with locked.begin():  # PostgreSQL: _postgres_write_lock
        current = current_revision(locked)
        tables = _table_names(locked)
        if current is None and not tables:
            from alembic import command

            command.upgrade(alembic_config(locked), "head")
            current = current_revision(locked)
    return current, tables


# Schema changes and roles are done in store/migrate.py and store/postgres_roles.py;
# they open the archive with this module's engines, handed to them (they cannot
# import this module: it imports them, for these entry points).


def upgrade(
    location: str | None, revision: str = "head", *, force: bool = False, create: bool = False
) -> SchemaChange:
    """Upgrade the archive at `location`, after a backup; `create` makes one from
    nothing (a missing file, an empty database), `force` also from a database with
    other tables."""
    return migrate.upgrade(create_archive_engine, location, revision, force=force, create=create)


def downgrade(location: str | None, revision: str) -> SchemaChange:
    """Downgrade the archive at `location` to `revision`, after a backup."""
    return migrate.downgrade(create_archive_engine, location, revision)


def revision_of(location: str | None) -> str | None:
    """The schema revision of the archive at `location` (None: it has none yet)."""
    return migrate.revision_of(create_archive_engine, location)


def grant_reader(location: str | None, role: str, *, login: bool = True) -> bool:
    """PostgreSQL: let `role` (created if missing; returns whether it was) read the
    archive and nothing more."""
    return postgres_roles.grant_reader(create_archive_engine, location, role, login=login)
