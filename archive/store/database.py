"""Opening an archive: where it is, connection settings, and keeping its schema in step.

Alembic owns the schema. A new database is created at the newest revision; an
existing one at an older revision is left alone until the user runs
`archive db upgrade`, because upgrading rewrites their data file.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError, ProgrammingError

from ..errors import ArchiveError, ArchiveUnavailable, BusyError, UsageError
from . import write_connection
from .location import (
    BUSY_TIMEOUT_MS,
    is_url,
    open_mode,
    resolve_location,
    shown,
    sqlite_uri,
)
from .schema_version import HEAD_REVISION, check_revision
from .write_connection import (  # noqa: F401 (kept importable from here)
    CACHE_KIB,
    POSTGRESQL,
    WRITE_LOCK_KEY,
    Archive,
    is_lock_timeout,
    postgres_write_lock,
    sqlite_archive,
)

POSTGRES_DRIVER_HINT = "install the PostgreSQL driver: pip install 'archive[postgres]'"


def to_url(location: str) -> URL:
    """A SQLAlchemy URL for a location (see location.is_url).

    `postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy's own default for
    a bare `postgresql://` is psycopg2, which archive does not depend on).
    """
    if not is_url(location):
        return URL.create("sqlite+pysqlite", database=location)
    try:
        url = make_url(location)
    except Exception as exc:  # ArgumentError, ValueError: a URL SQLAlchemy cannot parse
        raise ArchiveUnavailable(f"cannot read the database URL {shown(location)}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        # SQLAlchemy would load any dialect it knows, and fail later or half-way:
        # the archive's schema and queries are written for these two.
        raise ArchiveUnavailable(
            f"cannot open {shown(location)}: an archive is a SQLite file or a PostgreSQL"
            f" database (postgresql://...), not {url.get_backend_name()}"
        )
    return url


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def require_driver(url: URL) -> None:
    """One line saying what to install, instead of a ModuleNotFoundError traceback."""
    if url.get_driver_name() != "psycopg":
        if is_postgres(url):
            raise ArchiveUnavailable(
                f"archive talks to PostgreSQL through psycopg (postgresql://...), not"
                f" {url.get_driver_name()}"
            )
        return
    from importlib.util import find_spec

    if find_spec("psycopg") is None:
        raise ArchiveUnavailable(POSTGRES_DRIVER_HINT)
    try:  # one that is there but broken: the engine would import it next anyway
        import psycopg  # noqa: F401
    except ImportError:
        raise ArchiveUnavailable(POSTGRES_DRIVER_HINT) from None


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
        for pragma in write_connection.EXTRA_PRAGMAS:
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


def _migrations_folder() -> str:
    """The Alembic scripts: inside the installed package (pip install puts them at
    archive/_migrations), or, run from a source checkout without installing
    (`python -m archive` in the repository), the repository's migrations/."""
    try:
        return str(resources.files("archive._migrations"))
    except ModuleNotFoundError:
        return str(Path(__file__).resolve().parents[2] / "migrations")


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
            postgres_write_lock(connection)

    return engine


def alembic_config(connection: Connection | None = None, location: str | None = None) -> Any:
    from alembic.config import Config  # Alembic loads only when the schema changes

    config = Config()
    config.set_main_option("script_location", _migrations_folder())
    if location is not None:
        config.set_main_option("sqlalchemy.url", to_url(location).render_as_string(False))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def alembic_head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The archive's schema revision (Alembic's version table), read with plain SQL."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    try:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except (OperationalError, ProgrammingError):
        return None


def _file_mode(url: URL, *, create: bool = False, write: bool = False) -> str:
    """location.open_mode for a SQLite file; "rw" for anything else."""
    if _is_sqlite(url) and url.database and url.database != ":memory:":
        return open_mode(url.database, create=create, write=write)
    return "rw"


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
    engine.dispose()
    # The schema is current: from here on the archive is written and read through
    # plain DB-API connections (store/write_connection.py), as one at head is.
    if is_postgres(url):
        return _postgres_archive(location, url)
    return sqlite_archive(location, url.database or "", mode)


def _postgres_archive(location: str, url: URL) -> Archive:
    """An Archive of PostgreSQL connections through psycopg, set up as the engine's."""
    import psycopg

    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def connect() -> Any:
        driver = psycopg.connect(libpq, autocommit=True)
        # As _postgres_engine's connections: answers must not depend on the server's
        # time zone or the user's PGTZ.
        driver.execute("SET TIME ZONE 'UTC'")
        return driver

    return Archive(location, POSTGRESQL, connect)


def _open_error(location: str, exc: BaseException) -> ArchiveError:
    """The one-line error for a database that failed to open: busy (exit 4) when
    another process held the lock past the busy timeout, else unavailable (exit 5)."""
    reason = _one_line(exc)
    if "database is locked" in reason or "database is busy" in reason or is_lock_timeout(exc):
        return BusyError(
            f"the archive {shown(location)} is busy: another process kept it locked for"
            f" {BUSY_TIMEOUT_MS / 1000:g} s; try again when it has finished"
        )
    if "file is not a database" in reason:
        return ArchiveUnavailable(
            f"{shown(location)} is not an archive: it is not a SQLite database file"
        )
    if isinstance(exc, (OperationalError, ProgrammingError, DatabaseError, InterfaceError)):
        return ArchiveUnavailable(f"cannot open archive {shown(location)}: {reason}")
    return ArchiveError(f"cannot open archive {shown(location)}: {reason}")


def _create_schema(connection: Connection, url: URL) -> tuple[str | None, set[str]]:
    """Create the schema in an empty database; (revision, tables found before).

    Under the write lock, and looking again once it is held: two imports that start
    at once on a new file both saw it empty, both created the schema, and one failed
    with "database is locked". The second now waits, then finds the schema made.
    """
    locked = connection.execution_options(archive_write=True)  # SQLite: BEGIN IMMEDIATE
    with locked.begin():  # PostgreSQL: postgres_write_lock
        current = current_revision(locked)
        tables = _table_names(locked)
        if current is None and not tables:
            from alembic import command

            command.upgrade(alembic_config(locked), "head")
            current = current_revision(locked)
    return current, tables


def _table_names(connection: Connection) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(connection).get_table_names())


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


class SchemaChange:
    def __init__(
        self,
        location: str,
        revision: str | None,
        backup: str | None,
        notice: str | None = None,
        *,
        unchanged: bool = False,
    ) -> None:
        self.location = shown(location)
        self.revision = revision
        self.backup = backup
        # The archive was at the target already: nothing was done, nothing backed up.
        self.unchanged = unchanged
        # Said to the user when no backup could be made (PostgreSQL without pg_dump).
        self.notice = notice


def _pg_dump(url: URL, revision: str | None) -> tuple[str | None, str | None]:
    """PostgreSQL: (backup file, None) from pg_dump when it is on PATH, else (None, advice).

    The dump goes to the current folder in pg_dump's custom format (pg_restore
    reads it back). The password travels in PGPASSWORD, never on a command line
    that `ps` shows.
    """
    import datetime as dt
    import os
    import shutil
    import subprocess

    advice = (
        "no backup made: pg_dump is not on PATH. Back the database up first"
        " (pg_dump --format=custom) if you may want to go back"
    )
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None, advice
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = f"{url.database or 'archive'}.backup-{revision or 'none'}-{stamp}.dump"
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(
        [pg_dump, "--format=custom", "--file", target, libpq],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise ArchiveError(f"backup before the schema change failed (pg_dump: {reason})")
    return target, None


def _backup(location: str, revision: str | None) -> str | None:
    """SQLite-specific: copy the database (consistently, WAL included) before a migration."""
    url = to_url(location)
    if not _is_sqlite(url) or not url.database or not Path(url.database).exists():
        return None
    import datetime as dt
    import sqlite3

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = f"{url.database}.backup-{revision or 'none'}-{stamp}"
    counter = 1
    while Path(target).exists():  # two migrations in one second: keep both backups
        counter += 1
        target = f"{url.database}.backup-{revision or 'none'}-{stamp}-{counter}"
    source = sqlite3.connect(url.database)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()
    return target


def _migrate(
    location: str | None,
    revision: str,
    direction: str,
    *,
    force: bool = False,
    create: bool = False,
) -> SchemaChange:
    """Move the schema to `revision`, after a backup.

    Refused, with the file untouched: a missing file or an empty database unless
    `create` (a typo'd --db must not become an archive), a database that is not an
    archive (its tables would be joined by the archive's) unless `force`, and a
    read-only one. At the target already: nothing is done and no backup is made.
    """
    location = resolve_location(location)
    url = to_url(location)
    upgrading = direction == "upgrade"
    path = url.database if _is_sqlite(url) else None
    if path and upgrading and create and not Path(path).exists():
        _file_mode(url, create=True)  # refuses a missing or read-only folder
        before, tables = None, set()
    else:
        try:
            _file_mode(url)  # refuses a missing file, a folder, a file that is not SQLite
        except ArchiveUnavailable as exc:
            if path and upgrading and not Path(path).exists():
                raise ArchiveUnavailable(
                    f"no archive at {location}: db upgrade changes an existing archive;"
                    " `archive import PATH` creates one from record files,"
                    " `db upgrade --create` an empty one"
                ) from exc
            raise
        before, tables = _read_state(location)
    # An archive downgraded to base keeps only an empty version table: still one.
    is_archive = before is not None or "alembic_version" in tables
    if not is_archive and tables and not (upgrading and force):
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ArchiveUnavailable(
            f"{shown(location)} is not an archive: it has other tables ({listed}) and no"
            " schema revision, and db upgrade would add the archive's tables to them"
            + (" (--force does that anyway)" if upgrading else "")
        )
    if not is_archive and not tables and not (upgrading and (create or force)):
        raise ArchiveUnavailable(
            f"{shown(location)} is an empty database, not an archive yet: `archive import"
            " PATH` creates the archive in it"
            + (" (db upgrade --create creates only the tables)" if upgrading else "")
        )
    if before is not None and revision in (before, "head" if before == HEAD_REVISION else None):
        return SchemaChange(location, before, None, unchanged=True)
    # Refused before the backup, which would otherwise be left behind for nothing.
    known = _known_revisions()
    if before is not None and before not in known:
        check_revision(shown(location), before, lambda: known)  # says "a newer version?"
    named = revision not in ("head", "base", "heads") and not re.fullmatch(r"[+-]\d+", revision)
    if named and not any(r.startswith(revision) for r in known):
        raise UsageError(
            f"no schema revision {revision!r}: `archive db history` lists them"
            " (or give head, base, -1, +1)"
        )
    _file_mode(url, create=create, write=True)  # a read-only file or folder: before the backup
    notice = backup = None
    engine = create_archive_engine(location)
    try:
        from alembic import command

        with engine.connect() as connection:
            # The write lock first (SQLite: BEGIN IMMEDIATE), then the backup: a
            # migration that meets an import waits for it, or stops as busy with
            # nothing changed and no backup left behind; and nothing can change
            # between the backup and the migration.
            locked = connection.execution_options(archive_write=True)
            with locked.begin():
                if not tables:
                    pass  # an empty database: nothing to back up
                elif is_postgres(url):
                    backup, notice = _pg_dump(url, before)
                else:
                    backup = _backup(location, before)
                config = alembic_config(locked)
                try:
                    getattr(command, direction)(config, revision)
                except Exception as exc:  # alembic reports unknown revisions with assorted types
                    kept = f"; the archive is unchanged (a backup is at {backup})" if backup else ""
                    raise ArchiveError(
                        f"{direction} to {revision} failed: {_one_line(exc)}{kept}"
                    ) from exc
                after = current_revision(locked)
    except ArchiveError:
        raise
    except Exception as exc:
        error = _open_error(location, exc)
        if backup:
            error = type(error)(f"{error}; the archive is unchanged (a backup is at {backup})")
        raise error from exc
    finally:
        engine.dispose()
    return SchemaChange(location, after, backup, notice)


def upgrade(
    location: str | None, revision: str = "head", *, force: bool = False, create: bool = False
) -> SchemaChange:
    """Upgrade the archive at `location`; `create` makes one from nothing (a missing
    file, an empty database), `force` also from a database with other tables."""
    return _migrate(location, revision, "upgrade", force=force, create=create)


def downgrade(location: str | None, revision: str) -> SchemaChange:
    return _migrate(location, revision, "downgrade")


def revision_of(location: str | None) -> str | None:
    """The schema revision of the archive at `location` (None: it has none yet)."""
    location = resolve_location(location)
    current, tables = _read_state(location)
    if current is None and tables:
        raise ArchiveUnavailable(
            f"{shown(location)} is not an archive: it has other tables and no schema revision"
        )
    return current


def _read_state(location: str) -> tuple[str | None, set[str]]:
    """(schema revision, table names), read without writing anything."""
    url = to_url(location)
    engine = create_archive_engine(location, mode=_file_mode(url), writing=False)
    try:
        with engine.connect() as connection:
            return current_revision(connection), _table_names(connection)
    except Exception as exc:  # no server, wrong password, not a database, busy ...
        raise _open_error(location, exc) from exc
    finally:
        engine.dispose()


def history() -> list[tuple[str, str]]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [(rev.revision, rev.doc or "") for rev in script.walk_revisions()]


def grant_reader(location: str | None, role: str, *, login: bool = True) -> bool:
    """Let `role` read the PostgreSQL archive and nothing more: CONNECT on the
    database, USAGE on its schema, SELECT on its tables and views (also those later
    migrations add). Creates the role if missing; returns whether it did."""
    location = resolve_location(location)
    url = to_url(location)
    if not is_postgres(url):
        raise ArchiveError("db grant-reader is for PostgreSQL archives (SQLite has no roles)")
    engine = create_archive_engine(location)
    try:
        with engine.connect() as connection, connection.begin():
            quote = connection.dialect.identifier_preparer.quote
            row = connection.exec_driver_sql(
                "SELECT rolsuper FROM pg_roles WHERE rolname = %(role)s", {"role": role}
            ).first()
            if row is not None and row[0]:
                raise ArchiveError(f"role {role} is a superuser: a reader must be an ordinary role")
            name = quote(role)
            if row is None:
                connection.exec_driver_sql(f"CREATE ROLE {name} {'LOGIN' if login else 'NOLOGIN'}")
            database = quote(connection.exec_driver_sql("SELECT current_database()").scalar())
            schema = quote(connection.exec_driver_sql("SELECT current_schema()").scalar())
            for statement in (
                f"GRANT CONNECT ON DATABASE {database} TO {name}",
                f"GRANT USAGE ON SCHEMA {schema} TO {name}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
                # Tables and views that later migrations (run by this role) create.
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}",
            ):
                connection.exec_driver_sql(statement)
            return row is None
    except (OperationalError, ProgrammingError) as exc:
        raise ArchiveError(f"cannot grant on {shown(location)}: {_one_line(exc)}") from exc
    finally:
        engine.dispose()
