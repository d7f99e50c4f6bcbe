"""The importer's transactions: when to commit, and database errors as clear ones.

A transaction spans several chunks of files: every commit rewrites the index
pages the chunks touched (URL keys and image URLs land all over their indexes),
so fewer, larger commits write far less. A time bound keeps the write lock short
enough for another import to interleave, and bounds what a crash can take back.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from ..errors import ArchiveError, BusyError
from ..store.location import BUSY_TIMEOUT_MS
from ..store.write_connection import (
    Connection,
    DatabaseError,
    OperationalError,
    is_lock_timeout,
)

# SQLite: how long one attempt to take the write lock waits inside SQLite, where
# neither Ctrl-C nor a "waiting" notice can get in; attempts repeat until the busy
# timeout. SQLite's own busy handler polls too, so nothing is lost in fairness.
LOCK_POLL_MS = 200


class Stopped(Exception):
    """The import was asked to stop while it waited for the write lock."""


class CommitPolicy:
    """Opens a write transaction when a chunk needs one, and commits it every
    `max_files` files or `max_seconds`, whichever comes first."""

    def __init__(
        self,
        conn: Connection,
        *,
        max_files: int,
        max_seconds: float,
        on_commit: Callable[[list[tuple[str, str]]], None],
        on_wait: Callable[[bool], None] | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.conn = conn
        self.on_wait = on_wait
        self.stopping = stopping
        self.max_files = max_files
        self.max_seconds = max_seconds
        # Told which (path, sha256) became visible to other connections.
        self.on_commit = on_commit
        self.transaction: Any = None
        self.opened = 0.0
        self.uncommitted: list[tuple[str, str]] = []

    @property
    def open(self) -> bool:
        return self.transaction is not None

    def begin(self) -> bool:
        """Open a transaction unless one is open; True if this opened it."""
        if self.transaction is not None:
            return False
        self.transaction = begin_write(self.conn, on_wait=self.on_wait, stopping=self.stopping)
        self.opened = time.monotonic()
        return True

    def written(self, path: str, digest: str) -> None:
        self.uncommitted.append((path, digest))

    def due(self) -> bool:
        return (
            len(self.uncommitted) >= self.max_files
            or time.monotonic() - self.opened >= self.max_seconds
        )

    def commit(self) -> None:
        try:
            busy_aware(self.transaction.commit)
        except OperationalError as exc:
            # Pages reach the disk at commit (the WAL, full-text segments), so a full
            # disk or an I/O error shows here; SQLite rolled back, the archive is intact.
            raise ArchiveError(
                f"could not write to the archive: {db_reason(exc)}; files already imported are kept"
            ) from None
        self.transaction = None
        committed, self.uncommitted = self.uncommitted, []
        self.on_commit(committed)

    def abandon(self) -> None:
        """Roll back what is not committed (after an error or an interruption)."""
        if self.transaction is not None:
            quietly_roll_back(self.transaction)
        self.transaction = None


def quietly_roll_back(transaction: Any) -> None:
    """Roll back, even when SQLite already did (a full disk rolls back the whole
    transaction, and with it every savepoint): the error that caused it matters."""
    if not transaction.is_active:
        return
    with contextlib.suppress(DatabaseError):
        transaction.rollback()


def begin_write(
    conn: Connection,
    *,
    on_wait: Callable[[bool], None] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> Any:
    """Begin a write transaction, waiting up to the busy timeout for the write lock.

    `on_wait(True)` is called once the lock turns out to be taken (another import is
    writing), `on_wait(False)` once the wait is over. `stopping()` is asked between
    attempts: if it says so, the wait ends with Stopped.
    """
    if conn.dialect.name != "sqlite":
        # PostgreSQL waits in psycopg, where Ctrl-C cancels the wait by itself.
        return busy_aware(conn.begin)
    # SQLite-specific: short attempts on the raw connection's busy timeout, so that
    # Python gets control (signals, the notice, stopping) between them.
    driver = conn.driver_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    waiting = False
    driver.execute(f"PRAGMA busy_timeout = {LOCK_POLL_MS:d}")
    try:
        while True:
            try:
                return conn.begin()
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise _busy_error() from None
            if not waiting and on_wait is not None:
                on_wait(True)
            waiting = True
            if stopping is not None and stopping():
                raise Stopped
    finally:
        driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        if waiting and on_wait is not None:
            on_wait(False)


def _is_busy(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig) or "busy" in str(exc.orig) or is_lock_timeout(exc)


def busy_aware(step: Callable[[], Any]) -> Any:
    """Run a BEGIN or COMMIT; a write lock that stays taken becomes a clear error."""
    try:
        return step()
    except OperationalError as exc:
        if _is_busy(exc):
            raise _busy_error() from None
        raise


def _busy_error() -> BusyError:
    return BusyError(
        "the archive is busy: another process kept it locked for "
        f"{BUSY_TIMEOUT_MS / 1000:g} s; files already imported are kept, run the import again"
    )


def db_reason(exc: DatabaseError) -> str:
    """The database's own message, on one line."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
