"""Where an archive is: `--db`, `$ARCHIVE_DB` or the default, as a file or a URL.

Free of SQLAlchemy, so that the read-only commands (`archive sql`, `archive
export`) start without loading it.
"""

from __future__ import annotations

import os

DEFAULT_DB = "archive.db"
BUSY_TIMEOUT_MS = 30_000


def resolve_location(db: str | None) -> str:
    """`--db`, else `$ARCHIVE_DB`, else archive.db in the current directory."""
    return db or os.environ.get("ARCHIVE_DB") or DEFAULT_DB


def is_url(location: str) -> bool:
    """`dialect://...` is a SQLAlchemy URL; anything else is a file path.

    So `file:x?mode=rw` is a file of that odd name, never a SQLite URI with options.
    """
    return "://" in location.split("?", 1)[0] and not location.startswith("file:")
