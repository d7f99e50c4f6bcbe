"""Format and write rows in a second process while this one reads them.

A large export spends its time in two halves of about the same size: SQLite
producing the rows with Python objects for them, and turning those into CSV or
JSON text. Neither releases the GIL for long, so threads cannot overlap them;
a forked process can. The rows travel in batches, serialized with marshal (the
cheapest encoding for tuples of str/int/float/None/bytes, which is all sqlite3
returns). On one core, or where fork is not available, nothing is offloaded.

The child never touches the parent's database connection, and it ends when its
input ends, including when the parent dies.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import islice

from ..errors import ArchiveError, OutputError

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from typing import Any, TextIO

    from ..rows import OutputOptions, Rows

    Writer = Callable[[Rows, Iterator[Sequence[Any]], TextIO, OutputOptions], int]

ROWS_PER_MESSAGE = 1000


def available() -> bool:
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


def write_in_child(
    writer: Writer,
    result: Rows,
    rows: Iterator[Sequence[Any]],
    stream: TextIO,
    options: OutputOptions,
) -> int:
    """Run `writer` on `rows` in a forked process writing to `stream`; return its count."""
    import multiprocessing

    from ..rows import Rows

    stream.flush()  # the child takes over the file from here on
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    header = Rows(list(result.columns), (), result.bar_column)
    child = context.Process(
        target=_child, args=(writer, header, theirs, ours, stream, options), daemon=True
    )
    child.start()
    theirs.close()
    finished = False
    try:
        try:
            while batch := list(islice(rows, ROWS_PER_MESSAGE)):
                ours.send_bytes(marshal.dumps(batch))
            ours.send_bytes(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child stopped early: its message says why
        try:
            status, value = ours.recv()
        except (EOFError, ConnectionResetError):
            status, value = "error", "the writing process ended unexpectedly"
        finished = True
    finally:
        if not finished:  # reading the rows failed: the file is abandoned
            child.kill()
        child.join()
        ours.close()
    if status == "error" and child.exitcode:
        value = f"{value} (exit status {child.exitcode})"
    if status == "unwritable":
        raise OutputError(value)
    if status != "ok":
        raise ArchiveError(value)
    return value


def _child(
    writer: Writer,
    header: Rows,
    source: Connection,
    parents_end: Connection,
    stream: TextIO,
    options: OutputOptions,
) -> None:
    parents_end.close()  # so that our reads end if the parent dies
    try:
        count = writer(header, _received(source), stream, options)
        stream.flush()
        source.send(("ok", count))
    except KeyboardInterrupt:
        pass
    except EOFError:
        pass  # the parent is gone; it removes the unfinished file
    except OSError as exc:  # a full disk, a quota: the file cannot be written
        source.send(("unwritable", f"cannot write {options.output}: {exc.strerror or exc}"))
    except Exception as exc:  # reported by the parent as one line
        source.send(("error", f"could not write {options.output}: {exc}"))


def _received(source: Connection) -> Iterator[Sequence[Any]]:
    while message := source.recv_bytes():
        yield from marshal.loads(message)
