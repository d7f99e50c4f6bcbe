"""The `archive` group: the global options, and one line plus an exit code for every
failure (the codes are archive/errors.py's EXIT_STATUSES)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, MutableMapping, Sequence
from importlib import import_module
from typing import Any

import click

from .. import __version__
from ..errors import (
    EXIT_STATUSES,
    UsageError,
)
from ..store.location import DEFAULT_DB, busy_timeout_problem
from . import streams
from .commands import COMMANDS
from .completion import complete_files
from .failures import broken_pipe, command_failed, finish, interrupted, one_line, stdout_failed
from .front import db_first
from .options import examples
from .streams import StdoutFailed


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
            interrupted()
        except KeyboardInterrupt:  # one that arrived outside the command itself
            interrupted()
        except StdoutFailed as exc:  # --help or --version, printed while parsing
            stdout_failed(exc)
        except BrokenPipeError:
            broken_pipe()
        finish(result)


def _usage_line(exc: click.ClickException) -> str:
    """click's usage error as one line, pointing at the command's --help."""
    message = one_line(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    from .hints import extra_argument_hint  # only on the way out with an error

    hint = extra_argument_hint(exc)
    if hint is not None:
        return f"{message}: {hint}"
    if ctx is not None:
        message = f"{message} (see '{ctx.command_path} --help')"
    return message


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
