"""The `archive` group: the global options, and one line plus an exit code for each
expected failure."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ArchiveError
from ..store.location import DEFAULT_DB, password_of, shown
from .completion import complete_files
from .options import examples


class _ArchiveGroup(click.Group):
    """Turns the library's expected failures into one line on stderr and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `archive stats --db x.db` is how people type it: --db after the command
        # is moved in front of it, where the group reads it.
        return super().parse_args(ctx, _db_first(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            message = " ".join(str(exc).split())
            # A driver's message may quote the URL it was given: never print its password.
            location = (ctx.obj or {}).get("db") or ""
            password = password_of(location)
            if password:
                message = message.replace(location, shown(location))
                message = message.replace(password, "***")
            click.echo("error: " + message, err=True)
            ctx.exit(exc.exit_code)


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
@click.version_option(package_name="archive")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Turn news-record files into a queryable SQLite archive."""
    ctx.obj = {"db": db}


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
