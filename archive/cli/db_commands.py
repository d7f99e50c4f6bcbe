"""`archive dump` and `archive db ...`: whole-archive operations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import OutputError
from ..messages import printable
from .app import cli
from .options import db_location, examples

if TYPE_CHECKING:
    from ..store.database import SchemaChange


def _folders(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="dir")]


@cli.command(
    "dump",
    short_help="Write every record back out as a file.",
    epilog=examples(
        "archive dump out/", "archive dump out/ --force --quiet", "archive dump out/ --all-versions"
    ),
)
# A plain path, checked by _check_folder (exit 6 with words, not click's usage error).
@click.argument("folder", type=click.Path(), shell_complete=_folders)
@click.option("--force", is_flag=True, help="Overwrite files that already exist in FOLDER.")
@click.option(
    "--all-versions",
    is_flag=True,
    help="Every version of every file (older ones in FOLDER/.versions/), in an order"
    " archive import FOLDER replays.",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@click.pass_context
def dump_command(
    ctx: click.Context, folder: str, force: bool, all_versions: bool, quiet: bool
) -> None:
    """Write every archived record back out as a record file, exactly as imported.

    Each collection (a folder or git repository imported) becomes a folder of its
    files, each with its current content, plus .archive-order, the order they were
    imported in: `archive import FOLDER` reads it back into the same archive.
    """
    from ..api import dump

    _check_folder(folder)  # before the archive is read: a mistake costs nothing
    # Read like the query commands: without SQLAlchemy, read-only.
    result = dump(db_location(ctx), folder, force=force, all_versions=all_versions)
    if result.without_text:
        click.echo(
            f"note: {result.without_text} files have no stored text"
            " (source_file.text is NULL) and were not written",
            err=True,
        )
    if not quiet:
        click.echo(f"wrote {result.written} record files to {printable(str(folder))}", err=True)


def _check_folder(folder: str) -> None:
    """Refuse, in words, a FOLDER that dump could not write into."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{folder} is a file: dump writes one file per record into a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(f"cannot create {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == path:
            raise OutputError(f"cannot write to {folder}: the folder is read-only")
        raise OutputError(f"cannot create {folder}: {existing} is read-only")


@cli.group(
    "db",
    short_help="Schema upgrades and other database tasks.",
    epilog=examples("archive db current", "archive db upgrade", "archive db history"),
)
def db_group() -> None:
    """Schema revisions (Alembic): upgrade, downgrade, current, history.

    On PostgreSQL, grant-reader creates a role that may only read the archive.
    """


@db_group.command(
    "upgrade",
    short_help="Upgrade the schema, after a backup.",
    epilog=examples("archive db upgrade", "archive db upgrade head"),
)
@click.argument("revision", default="head")
@click.option(
    "--create",
    is_flag=True,
    help="Create an empty archive if the file does not exist (or the database is empty).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Also add the archive's tables to a database that has other tables.",
)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str, create: bool, force: bool) -> None:
    """Upgrade the archive's schema to REVISION (the newest by default), after a backup.

    It creates no archive unless --create (a typo'd --db must not become one) and
    refuses a database with other tables unless --force. At the revision already,
    it does nothing and makes no backup.

    Exit status: 0 done (or nothing to do), 1 the migration failed (the archive is
    unchanged), 2 no such revision, 3 the archive is newer than this version, 4
    busy, 5 no archive there, not an archive, or read-only.
    """
    from ..store import database

    _report(database.upgrade(db_location(ctx), revision, force=force, create=create))


def _report(result: SchemaChange) -> None:
    from ..store.schema_version import HEAD_REVISION

    if result.unchanged:
        head = " (head)" if result.revision == HEAD_REVISION else ""
        click.echo(f"already at {result.revision}{head}: nothing to do, no backup made", err=True)
    if result.backup:
        click.echo(f"backed up {result.location} to {result.backup}", err=True)
    if result.notice:
        click.echo(f"warning: {result.notice}", err=True)
    click.echo(f"schema at {result.revision}")


# "-1" (one revision down) is a revision, not an option.
@db_group.command(
    "downgrade",
    context_settings={"ignore_unknown_options": True},
    short_help="Downgrade the schema, after a backup.",
    epilog=examples("archive db downgrade -1", "archive db downgrade base"),
)
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the archive's schema to REVISION (e.g. -1, or a revision id), after a backup."""
    from ..store import database

    _report(database.downgrade(db_location(ctx), revision))


@db_group.command(
    "current",
    short_help="Print the archive's schema revision.",
    epilog=examples("archive db current"),
)
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the archive's schema revision and whether it is the newest."""
    from ..store import database
    from ..store.schema_version import HEAD_REVISION as head

    current = database.revision_of(db_location(ctx))
    click.echo(f"{current or 'none'}{' (head)' if current == head else f' (head is {head})'}")


@db_group.command(
    "grant-reader",
    short_help="PostgreSQL: a role that may only read.",
    epilog=examples(
        "archive --db postgresql://admin@dbhost/news db grant-reader news_reader",
    ),
)
@click.argument("role")
@click.option("--login/--no-login", default=True, show_default=True,
              help="Create the role able to log in (it needs a password or other auth to).")  # fmt: skip
@click.pass_context
def db_grant_reader(ctx: click.Context, role: str, login: bool) -> None:
    """PostgreSQL: let ROLE (created if missing) read the archive and nothing more."""
    from ..store import database

    created = database.grant_reader(db_location(ctx), role, login=login)
    click.echo(
        f"{'created role' if created else 'role'} {role}: may read the archive's tables and views"
    )


@db_group.command("history", epilog=examples("archive db history"))
def db_history() -> None:
    """List the schema revisions, newest first."""
    from ..store import database

    for revision, message in database.history():
        click.echo(f"{revision}  {message}")
