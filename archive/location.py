"""Where an archive is, and whether its schema is the one this version needs.

Kept apart from database.py, and free of SQLAlchemy and Alembic, so that the
read-only commands (`archive sql`, `archive export`) start without loading them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .errors import ArchiveError, SchemaOutOfDate

DEFAULT_DB = "archive.db"
# The newest migration in migrations/versions. Kept here so that commands need not
# load Alembic and read every migration script to check the schema on each start;
# tests/test_migrations.py checks it against Alembic's own head.
HEAD_REVISION = "0004"
BUSY_TIMEOUT_MS = 30_000


def resolve_location(db: str | None) -> str:
    """`--db`, else `$ARCHIVE_DB`, else archive.db in the current directory."""
    return db or os.environ.get("ARCHIVE_DB") or DEFAULT_DB


def is_url(location: str) -> bool:
    """`dialect://...` is a SQLAlchemy URL; anything else is a file path.

    So `file:x?mode=rw` is a file of that odd name, never a SQLite URI with options.
    """
    return "://" in location.split("?", 1)[0] and not location.startswith("file:")


def check_revision(
    location: str,
    current: str | None,
    known_revisions: Callable[[], set[str]],
    *,
    empty_version_table: bool = False,
) -> None:
    """Refuse an archive whose schema revision is not HEAD_REVISION, saying what to do."""
    if current == HEAD_REVISION:
        return
    if current is None and not empty_version_table:
        raise ArchiveError(f"{location} is not an archive: it has tables but no schema revision")
    if current is None or current in known_revisions():
        raise SchemaOutOfDate(
            f"archive {location} is at schema revision {current}, this version of "
            f"archive needs {HEAD_REVISION}: run `archive db upgrade` (it backs up the file first)"
        )
    raise SchemaOutOfDate(
        f"archive {location} has schema revision {current!r}, which this version of "
        "archive does not know (was it written by a newer version?)"
    )
