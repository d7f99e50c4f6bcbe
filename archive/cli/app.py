"""The `archive` group: the global options, and one line plus an exit code for every
failure (the codes are archive/errors.py's EXIT_STATUSES)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from ..errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_STATUSES,
    ArchiveError,
    OutputError,
    UsageError,
)
from ..messages import printable
from ..store.location import DEFAULT_DB, busy_timeout_problem, scrubbed
from . import streams
from .completion import complete_files
from .options import examples
from .streams import StdoutFailed

DEBUG_ENV = "ARCHIVE_DEBUG"


class _ArchiveGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code: the library's
    expected ones, click's usage errors, Ctrl-C, a closed pipe, and bugs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `archive stats --db x.db` is how people type it: --db after the command
        # is moved in front of it, where the group reads it.
        return super().parse_args(ctx, _db_first(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            click.echo("error: " + _scrubbed(ctx, _one_line(str(exc))), err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: main() below words them
        except KeyboardInterrupt:  # unless a command said more itself (import does)
            _interrupted()
        except StdoutFailed as exc:
            _stdout_failed(exc)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                _broken_pipe()
            _internal_error(ctx, exc)
        except Exception as exc:
            _internal_error(ctx, exc)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Exit status"):
            formatter.write_dl([(str(code), meaning) for code, meaning in EXIT_STATUSES])
        super().format_epilog(ctx, formatter)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        streams.guard()
        try:
            # Not standalone, so that click hands its exceptions here instead of
            # printing its usage block, "Aborted!" or nothing.
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # `archive` alone: the help is the answer
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"error: {_usage_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort as exc:
            # click turns Ctrl-C (and end of input at a prompt) into Abort.
            if isinstance(exc.__cause__, EOFError):
                click.echo("error: unexpected end of input", err=True)
                sys.exit(1)
            _interrupted()
        except KeyboardInterrupt:  # one that arrived outside the command itself
            _interrupted()
        except StdoutFailed as exc:  # --help or --version, printed while parsing
            _stdout_failed(exc)
        except BrokenPipeError:
            _broken_pipe()
        try:
            # Output still buffered would otherwise meet a closed pipe at exit, where
            # Python prints "Exception ignored ... BrokenPipeError".
            sys.stdout.flush()
        except BrokenPipeError:
            _broken_pipe()
        except StdoutFailed as exc:
            _stdout_failed(exc)
        sys.exit(result if isinstance(result, int) else 0)


def _scrubbed(ctx: click.Context, message: str) -> str:
    """A message without the password of the --db URL (a driver may quote it)."""
    return scrubbed(message, (ctx.find_root().obj or {}).get("db") or "")


def _one_line(message: str) -> str:
    """A message as one line a terminal only displays: its whitespace collapsed,
    and any control character left (from a path or a value in it) escaped."""
    return printable(" ".join(message.split()))


def _usage_line(exc: click.ClickException) -> str:
    """click's usage error as one line, pointing at the command's --help."""
    message = _one_line(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    from .hints import extra_argument_hint  # only on the way out with an error

    hint = extra_argument_hint(exc)
    if hint is not None:
        return f"{message}: {hint}"
    if ctx is not None:
        message = f"{message} (see '{ctx.command_path} --help')"
    return message


def _interrupted() -> NoReturn:
    # The newline ends the terminal's "^C" echo, so the word starts its own line.
    click.echo("\ninterrupted" if sys.stderr.isatty() else "interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


def _broken_pipe() -> NoReturn:
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


def _stdout_failed(exc: StdoutFailed) -> NoReturn:
    """Standard output is closed or full: one line on stderr, and the status of
    output that cannot be written."""
    streams.discard_stdout()
    click.echo(f"error: cannot write to standard output: {exc.strerror}", err=True)
    sys.exit(OutputError.exit_code)


def _debugging(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("debug")) or os.environ.get(DEBUG_ENV) not in (
        None,
        "",
        "0",
    )


def _internal_error(ctx: click.Context, exc: BaseException) -> NoReturn:
    """A bug: one line saying where the full report is, or with --debug, the traceback."""
    if _debugging(ctx):
        raise exc
    report = _write_report(exc)
    where = f"full report in {report}" if report else "no report could be written"
    message = _scrubbed(ctx, _one_line(str(exc)))
    name = type(exc).__name__
    click.echo(
        f"error: internal error: {name}: {message} ({where}; run with --debug to see it)",
        err=True,
    )
    sys.exit(EXIT_INTERNAL)


def _write_report(exc: BaseException) -> str | None:
    """Write the traceback to $XDG_STATE_HOME/archive (else ~/.local/state/archive,
    else the temporary folder); return the file's path."""
    import datetime as dt
    import platform
    import tempfile
    import traceback
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    try:
        archive_version = version("archive")
    except PackageNotFoundError:
        archive_version = "unknown"
    text = (
        f"archive {archive_version}, Python {platform.python_version()}, {platform.platform()}\n"
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


@click.group(
    cls=_ArchiveGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "archive import data/",
        "archive providers --topic AI",
        "archive search facial recognition --since 2020-08",
        "archive --db news.db import data/ && archive --db news.db stats",
    ),
)
@click.option(
    "--db",
    "db",
    envvar="ARCHIVE_DB",
    default=DEFAULT_DB,
    show_default=True,
    metavar="PATH",
    shell_complete=complete_files,
    help="Archive database file (or a SQLAlchemy URL). Also $ARCHIVE_DB.",
)
@click.option(
    "--debug",
    is_flag=True,
    help="On an internal error, show the Python traceback (also $ARCHIVE_DEBUG=1).",
)
@click.version_option(package_name="archive")
@click.pass_context
def cli(ctx: click.Context, db: str, debug: bool) -> None:
    """Turn news-record files into a queryable SQLite archive."""
    ctx.obj = {"db": db, "debug": debug}
    problem = busy_timeout_problem()
    if problem:
        raise UsageError(problem)


def _db_first(args: list[str]) -> list[str]:
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


def main() -> None:
    """Console entry point."""
    cli(prog_name="archive")
