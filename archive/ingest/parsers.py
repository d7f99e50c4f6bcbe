"""Parsing chunks of record files in worker processes while the writer writes.

The writer is the slower half of an import; parser processes (one per core but
the writer's) read ahead of it. The first chunk is parsed in this process, so
small imports never pay for starting processes.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import RecordError
from . import yamlfast
from .records import MAX_FILE_BYTES, Record, parse_record
from .stories import prepare_records


def parse_many(
    items: list[tuple[str, bytes]], max_bytes: int = MAX_FILE_BYTES, stories: bool = False
) -> list[Record | RecordError]:
    """Parse a chunk of files (runs in a parser process); with `stories`, each record's
    story features too (README: Stories), which the writer would compute otherwise."""
    results: list[Record | RecordError] = []
    for path, data in items:
        try:
            record = parse_record(data, source=path, max_bytes=max_bytes)
        except RecordError as error:
            results.append(error)
            continue
        # The writer already holds the bytes: don't ship the text back through a pipe.
        record.text = None  # type: ignore[assignment]
        results.append(record)
    if stories:
        prepare_records(results)
    return results


def default_workers() -> int:
    """Parser processes: one per core but the one the writer needs, at least one.

    The writer is the slower half of an import, so more parsers than the cores it
    leaves free only compete with it for CPU (and each costs memory).
    """
    return max(1, min((os.cpu_count() or 1) - 1, 4))


# Allocations between young-generation collections while importing (Python's
# default: 700).
IMPORT_GC_THRESHOLD = 100_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while importing.

    An import allocates millions of short-lived objects that reference counting
    frees (records, rows, parameter tuples) and makes hardly any cycles, so the
    collector's frequent passes find nothing: they took 7% of the writer's time
    and a few % of the parsers' (which inherit the setting when forked). Memory
    stays as flat: what the collector would have found is freed anyway.
    """
    saved = gc.get_threshold()
    gc.set_threshold(IMPORT_GC_THRESHOLD, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _start_worker() -> None:
    # Ctrl-C reaches every process of the terminal's foreground group: a parser must
    # not die of it with a traceback of its own. The importing process decides what
    # an interruption means, and ends its parsers itself (Parsers.close).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    yamlfast.silence_stderr()


class _Done:
    """A finished result with the interface of multiprocessing's AsyncResult."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


class Parsers:
    """Parses chunks in worker processes, or in this process for small imports."""

    def __init__(self, workers: int, max_bytes: int, stories: bool = False) -> None:
        self.workers = workers
        self.max_bytes = max_bytes
        self.stories = stories
        self.pool: Any = None
        self.submitted = 0

    def submit(self, items: list[tuple[str, bytes]]) -> Any:
        self.submitted += 1
        # The first chunk is parsed here: small imports never pay for starting processes.
        if self.workers == 0 or self.submitted == 1 or not items:
            return _Done(parse_many(items, self.max_bytes, self.stories))
        if self.pool is None:
            import multiprocessing  # only once a second chunk needs processes

            context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
            # Forked parsers share this process's memory until either side writes to
            # it; keeping the collector away from the objects that exist now keeps
            # those pages shared (see gc.freeze). They stay frozen in this process
            # too: unfreezing after the fork let its collector touch them again
            # (peak PSS of a 10k import 217 -> 240 MB). Frozen objects are still
            # freed when no longer referenced; only cycles among them are kept.
            gc.freeze()
            # SIGINT stays blocked while the workers start, so none can meet a Ctrl-C
            # before it ignores them (a blocked signal waits; the parent gets its own).
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                self.pool = context.Pool(self.workers, initializer=_start_worker)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return self.pool.apply_async(parse_many, (items, self.max_bytes, self.stories))

    def close(self, *, wait: bool) -> None:
        if self.pool is not None:
            if wait:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            self.pool = None
