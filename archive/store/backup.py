"""A copy of the archive taken before its schema changes: SQLite's backup API, or pg_dump."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.engine import URL

from ..errors import ArchiveError
from .urls import is_postgres, is_sqlite


def backup_before_change(url: URL, revision: str | None) -> tuple[str | None, str | None]:
    """(backup file or None, notice for the user or None) for the archive at `url`,
    whose schema is at `revision`."""
    if is_postgres(url):
        return pg_dump(url, revision)
    return sqlite_backup(url, revision), None


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def pg_dump(url: URL, revision: str | None) -> tuple[str | None, str | None]:
    """PostgreSQL: (backup file, None) from pg_dump when it is on PATH, else (None, advice).

    The dump goes to the current folder in pg_dump's custom format (pg_restore
    reads it back). The password travels in PGPASSWORD, never on a command line
    that `ps` shows.
    """
    import os
    import shutil
    import subprocess

    program = shutil.which("pg_dump")
    if program is None:
        return None, (
            "no backup made: pg_dump is not on PATH. Back the database up first"
            " (pg_dump --format=custom) if you may want to go back"
        )
    target = f"{url.database or 'archive'}.backup-{revision or 'none'}-{_stamp()}.dump"
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(
        [program, "--format=custom", "--file", target, libpq],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise ArchiveError(f"backup before the schema change failed (pg_dump: {reason})")
    return target, None


def sqlite_backup(url: URL, revision: str | None) -> str | None:
    """SQLite: copy the database (consistently, WAL included); None if there is no file."""
    if not is_sqlite(url) or not url.database or not Path(url.database).exists():
        return None
    import sqlite3

    base = f"{url.database}.backup-{revision or 'none'}-{_stamp()}"
    target, counter = base, 1
    while Path(target).exists():  # two migrations in one second: keep both backups
        counter += 1
        target = f"{base}-{counter}"
    source = sqlite3.connect(url.database)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()
    return target
