"""The `archive` group: the global options, and one line plus an exit code for every
failure (the codes are archive/errors.py's EXIT_STATUSES)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from importlib import import_module
from typing import Any, NoReturn

import click

from .. import __version__
from ..errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_STATUSES,
    ArchiveError,
    UsageError,
)
from ..messages import printable
from ..store.location import DEFAULT_DB, busy_timeout_problem, scrubbed
from . import streams
from .commands import COMMANDS
from .completion import complete_files
from .front import broken_pipe, db_first, finish, stdout_failed
from .options import examples
from .streams import StdoutFailed

DEBUG_ENV = "ARCHIVE_DEBUG"


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands, each module imported when one of its commands is
    first looked up (click's "lazily loading subcommands", as a mapping so that
    `cli.commands[name]` works as on any group). Importing a module registers its
    commands with `@cli.command`, which stores them here."""

    def __init__(self, modules: dict[str, str]) -> None:
        self.modules = modules  # name: module in archive.cli, not imported yet
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded and name in self.modules:
            import_module(f"{__package__}.{self.modules[name]}")
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        found = self.modules.pop(name, None) is not None
        if self.loaded.pop(name, None) is None and not found:
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.modules, *self.loaded]))

    def __len__(self) -> int:
        return len(self.modules.keys() | self.loaded.keys())


class _ArchiveGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code: the library's
    expected ones, click's usage errors, Ctrl-C, a closed pipe, and bugs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands({name: module for name, (module, _) in COMMANDS.items()})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The list comes from commands.py's table: listing must not import every module.
        commands: LazyCommands = self.commands  # type: ignore[assignment]
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)  # as click's
        rows = []
        for name in names:
            command = commands.loaded.get(name)
            if command is None:
                rows.append((name, COMMANDS[name][1]))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `archive stats --db x.db` is how people type it: --db after the command
        # is moved in front of it, where the group reads it.
        return super().parse_args(ctx, db_first(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: main() below words them
        except (Exception, KeyboardInterrupt) as exc:
            obj = ctx.find_root().obj or {}
            ctx.exit(command_failed(exc, obj.get("db") or "", bool(obj.get("debug"))))

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
            stdout_failed(exc)
        except BrokenPipeError:
            broken_pipe()
        finish(result)


def command_failed(exc: BaseException, db: str, debug: bool) -> int:
    """A command's failure as one line; returns the exit code of the library's
    expected failures, and exits itself for the others. Also for front.py's commands.

    `db` is the --db the command was given (its password is kept out of the line),
    `debug` whether --debug was."""
    if isinstance(exc, ArchiveError):
        click.echo("error: " + scrubbed(_one_line(str(exc)), db), err=True)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):  # unless a command said more itself (import does)
        _interrupted()
    if isinstance(exc, StdoutFailed):
        stdout_failed(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        broken_pipe()
    _internal_error(exc, db, debug)


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


def _internal_error(exc: BaseException, db: str, debug: bool) -> NoReturn:
    """A bug: one line saying where the full report is, or with --debug, the traceback."""
    if debug or os.environ.get(DEBUG_ENV) not in (None, "", "0"):
        raise exc
    report = _write_report(exc)
    where = f"full report in {report}" if report else "no report could be written"
    message = scrubbed(_one_line(str(exc)), db)
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
# The version as written in the package: asking importlib.metadata costs 30 ms.
@click.version_option(__version__, package_name="archive")
@click.pass_context
def cli(ctx: click.Context, db: str, debug: bool) -> None:
    """Turn news-record files into a queryable SQLite archive."""
    ctx.obj = {"db": db, "debug": debug}
    problem = busy_timeout_problem()
    if problem:
        raise UsageError(problem)


def main() -> None:
    """Console entry point."""
    cli(prog_name="archive")
