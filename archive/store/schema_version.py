"""Whether an archive's schema is the revision this version of archive needs.

Free of SQLAlchemy and Alembic, so that commands check the revision on every
start without loading them.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ArchiveUnavailable, SchemaOutOfDate

# The newest migration in migrations/versions. Kept here so that commands need not
# load Alembic and read every migration script to check the schema on each start;
# tests/test_migrations.py checks it against Alembic's own head.
HEAD_REVISION = "0010"


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
        raise ArchiveUnavailable(
            f"{location} is not an archive: it has tables but no schema revision"
        )
    if current is None or current in known_revisions():
        raise SchemaOutOfDate(
            f"archive {location} is at schema revision {current}, this version of "
            f"archive needs {HEAD_REVISION}: run `archive db upgrade` (it backs up the file first)"
        )
    raise SchemaOutOfDate(
        f"archive {location} has schema revision {current!r}, which this version of "
        "archive does not know (was it written by a newer version?)"
    )
