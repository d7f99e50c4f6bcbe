"""Opening an archive to write it: the fast way when its schema is current.

An archive that is a SQLite file at the current schema revision opens with plain
sqlite3 (store/write_connection.py): no SQLAlchemy, SQLModel or Alembic, about
0.4 s of an import's start. Anything else goes to store/database.py, which creates
the schema with Alembic or says what is wrong (an old or unknown revision, a file
that is no archive, a busy or missing database), and PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3

from .location import BUSY_TIMEOUT_MS, is_url, open_mode, resolve_location, sqlite_uri
from .schema_version import HEAD_REVISION
from .write_connection import Archive, sqlite_archive


def open_archive(location: str | None = None, *, create: bool = True) -> Archive:
    """Open the archive (as store/database.open_archive does), without SQLAlchemy
    or Alembic when it is a SQLite file at the current schema revision.

    Anything else (a new or empty file, an older or unknown revision, a file that
    is no archive, a URL) goes to database.open_archive, which creates the schema
    with Alembic or says what is wrong.
    """
    location = resolve_location(location)
    if not is_url(location) and os.path.isfile(location):
        mode = open_mode(location, create=create, write=create)
        if _at_head(location, mode):
            return sqlite_archive(location, location, mode)
    from . import database  # SQLAlchemy, and Alembic to create the schema

    return database.open_archive(location, create=create)


def _at_head(path: str, mode: str) -> bool:
    """Whether `path` is an existing archive at HEAD_REVISION (any failure: no)."""
    try:
        # A file: URI even to write: a name like "file:x.db?mode=ro" stays a name.
        driver = sqlite3.connect(sqlite_uri(path, mode), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return False
    try:
        row = driver.execute("SELECT version_num FROM alembic_version").fetchall()
        return row == [(HEAD_REVISION,)]
    except sqlite3.Error:
        return False
    finally:
        driver.close()
