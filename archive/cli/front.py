"""The front door: the command lines that must start about as fast as Python itself.

Importing click (with the inspect, typing, uuid and gettext modules it loads) takes
longer than starting Python: with it, no command can start within 1.5 times a bare
`python -c 'import sqlite3'`. Scripts call `archive --version` and small
`archive sql 'SELECT ...'` questions in loops, so those two lines are answered here
without click, through the same functions the click command calls (run_sql), and
with the same failures (app.command_failed, loaded only on the way out). Any other
word on the line (an option, --help, a completion request) goes to click.
tests/test_startup.py runs each line both ways and compares.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from itertools import chain, islice

# typing.TYPE_CHECKING without importing typing's 5 ms: checkers read it the same.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from ..rows import OutputOptions

# click's completion protocol: set when a shell asks what Tab completes.
COMPLETE_ENV = "_ARCHIVE_COMPLETE"
DB_ENV = "ARCHIVE_DB"


def answer(args: list[str] | None = None) -> None:
    """Answer `args` (the command line) and exit, if it is one of the front door's;
    else return, and click parses it."""
    args = sys.argv[1:] if args is None else args
    if COMPLETE_ENV in os.environ:
        return
    if args == ["--version"]:
        _version()
    found = plain_sql(db_first(args))
    if found is not None:
        _sql(*found)


def plain_sql(args: list[str]) -> tuple[str, str] | None:
    """(archive, SQL) of `[--db X] sql SQL` with no other option, else None."""
    db = None
    if args[:1] == ["--db"] and len(args) > 1:
        db, args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--db="):
        db, args = args[0].removeprefix("--db="), args[1:]
    if len(args) != 2 or args[0] != "sql" or args[1].startswith("-"):
        return None
    if db is None:  # click's envvar: an empty $ARCHIVE_DB counts as unset
        from ..store.location import DEFAULT_DB

        db = os.environ.get(DB_ENV) or DEFAULT_DB
    return db, args[1]


def run_sql(
    db: str, sql: str, params: dict[str, str], timeout: float, allow_superuser: bool,
    out: OutputOptions, source: str | None = None,
) -> int:  # fmt: skip
    """`archive sql`: run a user's read-only SQL, write its rows; return how many.

    `source` names the file the SQL came from, for the refusal of a comment left open.
    """
    from ..output.formats import keep_freed_memory, write
    from ..query.readonly_sql import open_query
    from ..query.sql_text import checked_sql
    from ..store.sqlite_limits import limit_process_heap

    checked_sql(sql, source=source)
    limit_process_heap()
    query = open_query(db, timeout=timeout, allow_superuser=allow_superuser)
    try:
        result = query.run(sql, params)
        # Only long answers gain from keeping freed memory; loading ctypes for it
        # costs a small answer a tenth of its start, so it waits for the 1,001st row.
        rows = iter(result.rows)
        result.rows = chain(islice(rows, 1000), _first(keep_freed_memory, rows))
        return write(result, out)
    finally:
        query.close()


def _first(action: Callable[[], object], rows: Iterator[Any]) -> Iterator[Any]:
    """`rows`, with `action` run before the first of them, if there is one."""
    for row in rows:
        action()
        yield row
        yield from rows


def _version() -> None:
    from .. import __version__

    _run(lambda: sys.stdout.write(f"archive, version {__version__}\n"), "")


def _sql(db: str, sql: str) -> None:
    def command() -> None:
        from ..errors import UsageError
        from ..query.readonly_sql import DEFAULT_TIMEOUT
        from ..rows import OutputOptions
        from ..store.location import archive_files, busy_timeout_problem

        problem = busy_timeout_problem()  # as the group checks it before any command
        if problem:
            raise UsageError(problem)
        out = OutputOptions(protected=archive_files(db))
        run_sql(db, sql, {}, DEFAULT_TIMEOUT, False, out)

    _run(command, db)


def _run(command: Callable[[], object], db: str) -> NoReturn:
    """Run `command` as the click group would, then exit with its status."""
    from . import streams
    from .failures import command_failed, finish

    streams.guard()
    try:
        command()
        status = 0
    except (Exception, KeyboardInterrupt) as exc:
        status = command_failed(exc, db, debug=False)
    finish(status)


def db_first(args: list[str]) -> list[str]:
    """`args` with a `--db X` (or `--db=X`) given after the command moved before it."""
    # The command is the first word that is neither an option of the group nor the
    # value of its --db: what comes before it is the group's.
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] == "--db" else 1
    if index >= len(args):
        return args
    rest = args[index:]
    for position, arg in enumerate(rest):
        if arg == "--":
            break
        if arg.startswith("--db="):
            return [*args[:index], arg, *rest[:position], *rest[position + 1 :]]
        if arg == "--db" and position + 1 < len(rest):
            moved = rest[position : position + 2]
            return [*args[:index], *moved, *rest[:position], *rest[position + 2 :]]
    return args
