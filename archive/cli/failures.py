"""A command's failure as one line on stderr and an exit code, for click's group
(app.py) and the commands front.py answers without click (the codes are
archive/errors.py's EXIT_STATUSES). Free of click: the fast start path uses it."""

from __future__ import annotations

import errno
import os
import sys

from .. import __version__
from ..errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, ArchiveError, OutputError
from ..messages import printable
from ..store.location import scrubbed
from . import streams
from .streams import StdoutFailed

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

DEBUG_ENV = "ARCHIVE_DEBUG"


def say(line: str) -> None:
    """One line on stderr, at once (as click.echo(err=True) writes it)."""
    print(line, file=sys.stderr, flush=True)


def command_failed(exc: BaseException, db: str, debug: bool) -> int:
    """A command's failure as one line; returns the exit code of the library's
    expected failures, and exits itself for the others. Also front.py's.

    `db` is the --db the command was given (its password is kept out of the line),
    `debug` whether --debug was."""
    if isinstance(exc, ArchiveError):
        say("error: " + scrubbed(one_line(str(exc)), db))
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):  # unless a command said more itself (import does)
        interrupted()
    if isinstance(exc, StdoutFailed):
        stdout_failed(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        broken_pipe()
    _internal_error(exc, db, debug)


def one_line(message: str) -> str:
    """A message as one line a terminal only displays: its whitespace collapsed,
    and any control character left (from a path or a value in it) escaped."""
    return printable(" ".join(message.split()))


def interrupted() -> NoReturn:
    # The newline ends the terminal's "^C" echo, so the word starts its own line.
    say("\ninterrupted" if sys.stderr.isatty() else "interrupted")
    sys.exit(EXIT_INTERRUPTED)


def _internal_error(exc: BaseException, db: str, debug: bool) -> NoReturn:
    """A bug: one line saying where the full report is, or with --debug, the traceback."""
    if debug or os.environ.get(DEBUG_ENV) not in (None, "", "0"):
        raise exc
    report = _write_report(exc)
    where = f"full report in {report}" if report else "no report could be written"
    message = scrubbed(one_line(str(exc)), db)
    name = type(exc).__name__
    say(f"error: internal error: {name}: {message} ({where}; run with --debug to see it)")
    sys.exit(EXIT_INTERNAL)


def _write_report(exc: BaseException) -> str | None:
    """Write the traceback to $XDG_STATE_HOME/archive (else ~/.local/state/archive,
    else the temporary folder); return the file's path."""
    import datetime as dt
    import platform
    import tempfile
    import traceback
    from pathlib import Path

    text = (
        f"archive {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"command: {' '.join(sys.argv)}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    name = f"crash-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    for folder in (Path(state) / "archive", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / (name if folder.name == "archive" else f"archive-{name}")
            path.write_text(text, encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return None


def finish(status: object) -> NoReturn:
    """Exit with the command's status once its buffered output is written."""
    try:
        # Output still buffered would otherwise meet a closed pipe at exit, where
        # Python prints "Exception ignored ... BrokenPipeError".
        sys.stdout.flush()
    except BrokenPipeError:
        broken_pipe()
    except StdoutFailed as exc:
        stdout_failed(exc)
    sys.exit(status if isinstance(status, int) else 0)


def broken_pipe() -> NoReturn:
    """The reader of our output went away (`| head`): end quietly, as `cat` does.

    stdout is pointed at /dev/null so that Python's flush at exit does not fail
    again and print "Exception ignored ... BrokenPipeError".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (tests)
        pass
    sys.exit(EXIT_BROKEN_PIPE)


def stdout_failed(exc: StdoutFailed) -> NoReturn:
    """Standard output is closed or full: one line on stderr, and the status of
    output that cannot be written."""
    streams.discard_stdout()
    say(f"error: cannot write to standard output: {exc.strerror}")
    sys.exit(OutputError.exit_code)
