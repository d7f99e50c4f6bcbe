"""`db upgrade` and `db downgrade`: moving an archive's schema, after a backup.

Each refusal is a function of its own, run in order before anything is written:
a missing file or an empty database unless `create` (a typo'd --db must not
become an archive), a database that is not an archive (its tables would be
joined by the archive's) unless `force`, an archive newer than this version,
an unknown revision, and a read-only file. At the target already, nothing is
done and no backup is made. Then, under the write lock: the backup, Alembic,
and Alembic's assorted errors as one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL, Connection

from ..errors import ArchiveError, ArchiveUnavailable, UsageError
from .backup import backup_before_change
from .failures import one_line, open_error
from .location import resolve_location, shown
from .revisions import (
    SchemaChange,
    alembic_config,
    current_revision,
    known_revisions,
    table_names,
)
from .schema_version import HEAD_REVISION, check_revision
from .urls import file_mode, is_sqlite, to_url

# store.database.create_archive_engine, handed over by database.upgrade and the
# others: this module cannot import database, which imports it.
Engines = Callable[..., Engine]


@dataclass(frozen=True)
class _Change:
    """A requested schema change."""

    engines: Engines
    location: str
    url: URL
    revision: str
    direction: str  # "upgrade" or "downgrade", Alembic's command
    force: bool = False
    create: bool = False

    @property
    def upgrading(self) -> bool:
        return self.direction == "upgrade"

    @property
    def path(self) -> str | None:
        """The SQLite file (None: PostgreSQL)."""
        return self.url.database if is_sqlite(self.url) else None


def upgrade(
    engines: Engines,
    location: str | None,
    revision: str = "head",
    *,
    force: bool = False,
    create: bool = False,
) -> SchemaChange:
    """Upgrade the archive at `location`; `create` makes one from nothing (a missing
    file, an empty database), `force` also from a database with other tables."""
    return _migrate(engines, location, revision, "upgrade", force=force, create=create)


def downgrade(engines: Engines, location: str | None, revision: str) -> SchemaChange:
    return _migrate(engines, location, revision, "downgrade")


def revision_of(engines: Engines, location: str | None) -> str | None:
    """The schema revision of the archive at `location` (None: it has none yet)."""
    location = resolve_location(location)
    current, tables = read_state(engines, location)
    if current is None and tables:
        raise ArchiveUnavailable(
            f"{shown(location)} is not an archive: it has other tables and no schema revision"
        )
    return current


def read_state(engines: Engines, location: str) -> tuple[str | None, set[str]]:
    """(schema revision, table names), read without writing anything."""
    engine = engines(location, mode=file_mode(to_url(location)), writing=False)
    try:
        with engine.connect() as connection:
            return current_revision(connection), table_names(connection)
    except Exception as exc:  # no server, wrong password, not a database, busy ...
        raise open_error(location, exc) from exc
    finally:
        engine.dispose()


def _migrate(
    engines: Engines,
    location: str | None,
    revision: str,
    direction: str,
    *,
    force: bool = False,
    create: bool = False,
) -> SchemaChange:
    location = resolve_location(location)
    change = _Change(engines, location, to_url(location), revision, direction, force, create)
    before, tables = _state_before(change)
    # An archive downgraded to base keeps only an empty version table: still one.
    is_archive = before is not None or "alembic_version" in tables
    if not is_archive:
        _refuse_other_tables(change, tables)
        _refuse_empty(change, tables)
    if before is not None and revision in (before, "head" if before == HEAD_REVISION else None):
        return SchemaChange(location, before, None, unchanged=True)
    # Refused before the backup, which would otherwise be left behind for nothing.
    known = known_revisions()
    _refuse_newer_archive(change, before, known)
    _refuse_unknown_revision(change, known)
    file_mode(change.url, create=create, write=True)  # a read-only file or folder
    return _run(change, before, tables)


def _state_before(change: _Change) -> tuple[str | None, set[str]]:
    """The archive's revision and tables; refuses a missing file unless creating one."""
    missing = change.path is not None and not Path(change.path).exists()
    if missing and change.upgrading and change.create:
        file_mode(change.url, create=True)  # refuses a missing or read-only folder
        return None, set()
    try:
        file_mode(change.url)  # refuses a missing file, a folder, a file that is not SQLite
    except ArchiveUnavailable as exc:
        if missing and change.upgrading:
            raise ArchiveUnavailable(
                f"no archive at {change.location}: db upgrade changes an existing archive;"
                " `archive import PATH` creates one from record files,"
                " `db upgrade --create` an empty one"
            ) from exc
        raise
    return read_state(change.engines, change.location)


def _refuse_other_tables(change: _Change, tables: set[str]) -> None:
    """A database with tables of its own and no schema revision, unless --force."""
    if tables and not (change.upgrading and change.force):
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ArchiveUnavailable(
            f"{shown(change.location)} is not an archive: it has other tables ({listed}) and"
            " no schema revision, and db upgrade would add the archive's tables to them"
            + (" (--force does that anyway)" if change.upgrading else "")
        )


def _refuse_empty(change: _Change, tables: set[str]) -> None:
    """An empty database, unless --create or --force."""
    if not tables and not (change.upgrading and (change.create or change.force)):
        raise ArchiveUnavailable(
            f"{shown(change.location)} is an empty database, not an archive yet: `archive"
            " import PATH` creates the archive in it"
            + (" (db upgrade --create creates only the tables)" if change.upgrading else "")
        )


def _refuse_newer_archive(change: _Change, before: str | None, known: set[str]) -> None:
    """An archive at a revision this version does not know: "a newer version?"."""
    if before is not None and before not in known:
        check_revision(shown(change.location), before, lambda: known)


def _refuse_unknown_revision(change: _Change, known: set[str]) -> None:
    revision = change.revision
    relative = revision in ("head", "base", "heads") or re.fullmatch(r"[+-]\d+", revision)
    if not relative and not any(r.startswith(revision) for r in known):
        raise UsageError(
            f"no schema revision {revision!r}: `archive db history` lists them"
            " (or give head, base, -1, +1)"
        )


def _run(change: _Change, before: str | None, tables: set[str]) -> SchemaChange:
    """The write lock first (SQLite: BEGIN IMMEDIATE), then the backup, then Alembic.

    A migration that meets an import waits for it, or stops as busy with nothing
    changed and no backup left behind; and nothing can change between the backup
    and the migration.
    """
    backup = notice = None
    engine = change.engines(change.location)
    try:
        with engine.connect() as connection:
            locked = connection.execution_options(archive_write=True)
            with locked.begin():
                if tables:  # an empty database: nothing to back up
                    backup, notice = backup_before_change(change.url, before)
                _alembic(change, locked, backup)
                after = current_revision(locked)
    except ArchiveError:
        raise
    except Exception as exc:
        error = open_error(change.location, exc)
        if backup:
            error = type(error)(f"{error}; the archive is unchanged (a backup is at {backup})")
        raise error from exc
    finally:
        engine.dispose()
    return SchemaChange(change.location, after, backup, notice)


def _alembic(change: _Change, locked: Connection, backup: str | None) -> None:
    from alembic import command

    try:
        getattr(command, change.direction)(alembic_config(locked), change.revision)
    except Exception as exc:  # alembic reports unknown revisions with assorted types
        kept = f"; the archive is unchanged (a backup is at {backup})" if backup else ""
        raise ArchiveError(
            f"{change.direction} to {change.revision} failed: {one_line(exc)}{kept}"
        ) from exc
