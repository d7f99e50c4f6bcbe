"""A database that failed to open or to change, as one line for the user."""

from __future__ import annotations

from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError, ProgrammingError

from ..errors import ArchiveError, ArchiveUnavailable, BusyError
from .location import BUSY_TIMEOUT_MS, shown


def is_lock_timeout(exc: BaseException) -> bool:
    """PostgreSQL's lock_timeout ran out (SQLSTATE 55P03): another writer held on."""
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "55P03"


def open_error(location: str, exc: BaseException) -> ArchiveError:
    """The one-line error for a database that failed to open: busy (exit 4) when
    another process held the lock past the busy timeout, else unavailable (exit 5)."""
    reason = one_line(exc)
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


def one_line(exc: BaseException) -> str:
    """An exception's message (the driver's, if SQLAlchemy wrapped it), first line only."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
