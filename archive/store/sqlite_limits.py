"""What one user's SQL may cost a SQLite connection: wall-clock time and memory.

A progress handler runs between steps of SQLite's virtual machine, and a single
step can take seconds and gigabytes (`printf('%.*c', 200000000, 'x')` is one), so
counting steps does not bound time. Three limits that hold whatever the steps are:
- a watchdog thread calls `connection.interrupt()` at the deadline; SQLite stops
  the statement at its next step;
- SQLITE_LIMIT_LENGTH bounds every string or blob a statement makes, so that one
  step is bounded too (functions such as hex() refuse with "string or blob too
  big"; printf() and format() give NULL instead, as SQLite documents);
- a hard heap limit bounds the memory of all of SQLite in a process that serves
  user SQL (`archive sql`, `archive export`, `archive serve`): past it a statement
  fails with SQLITE_NOMEM, which Python raises as MemoryError.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# The longest string or blob a statement of `archive sql` / `archive export` may make
# or read: far above any record file (--max-file-size is 10 MB by default).
VALUE_LIMIT_BYTES = 256 * 1024 * 1024
# `archive serve` answers several users at once, each page with up to 1,000 rows:
# a smaller limit keeps a page's rows from filling the server's memory.
SERVE_VALUE_LIMIT_BYTES = 32 * 1024 * 1024
# SQLite's memory in the whole process: past the soft limit it frees caches, past
# the hard one a statement fails.
SOFT_HEAP_LIMIT_BYTES = 256 * 1024 * 1024
HARD_HEAP_LIMIT_BYTES = 1024 * 1024 * 1024


def mebibytes(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB"


def limit_values(connection: sqlite3.Connection, max_bytes: int = VALUE_LIMIT_BYTES) -> None:
    """Refuse strings and blobs longer than `max_bytes` on this connection."""
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_bytes)


def limit_process_heap() -> None:
    """Cap SQLite's memory in this whole process (the PRAGMAs are process-wide, so
    only a command that exists to run user SQL calls this, not the library)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT_BYTES:d}")
        connection.execute(f"PRAGMA hard_heap_limit = {HARD_HEAP_LIMIT_BYTES:d}")
    finally:
        connection.close()


class Watchdog:
    """One daemon thread that interrupts connections whose deadline has passed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._pending: list[tuple[float, int, sqlite3.Connection]] = []
        self._active: set[int] = set()
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def limit(self, connection: sqlite3.Connection, seconds: float) -> Iterator[None]:
        """Interrupt what `connection` runs if the block is still running after `seconds`."""
        ticket = self.start(connection, seconds)
        try:
            yield
        finally:
            self.stop(ticket)

    def start(self, connection: sqlite3.Connection, seconds: float) -> int:
        """Watch `connection` from now; stop(ticket) ends the watch."""
        ticket = next(self._tickets)
        with self._condition:
            heapq.heappush(self._pending, (time.monotonic() + seconds, ticket, connection))
            self._active.add(ticket)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sql-watchdog", daemon=True)
                self._thread.start()
            self._condition.notify()
        return ticket

    def stop(self, ticket: int) -> None:
        # Under the lock: once stop() returns, the watchdog cannot interrupt this
        # connection for this ticket (it checks the ticket under the same lock).
        with self._condition:
            self._active.discard(ticket)

    def _run(self) -> None:
        with self._condition:
            while True:
                while self._pending and self._pending[0][1] not in self._active:
                    heapq.heappop(self._pending)  # finished in time
                if not self._pending:
                    self._condition.wait()
                    continue
                deadline, ticket, connection = self._pending[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._condition.wait(min(wait, threading.TIMEOUT_MAX))
                    continue
                heapq.heappop(self._pending)
                self._active.discard(ticket)
                with suppress(sqlite3.ProgrammingError):  # closed meanwhile: nothing runs
                    connection.interrupt()


WATCHDOG = Watchdog()
