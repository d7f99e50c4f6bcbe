"""The `archive` command: parse options, call the library, print results. No logic here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from . import database
from . import dump as dump_module
from .errors import ArchiveError, RecordError
from .importer import STDIN, Importer, ImportSummary, StrictAbort, find_record_files

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


class _ArchiveGroup(click.Group):
    """Turns the library's expected failures into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    envvar="ARCHIVE_DB",
    default=database.DEFAULT_DB,
    show_default=True,
    metavar="PATH",
    help="Archive database file (or a SQLAlchemy URL). Also $ARCHIVE_DB.",
)
@click.version_option(package_name="archive")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Turn news-record files into a queryable SQLite archive."""
    ctx.obj = {"db": db}


def _db(ctx: click.Context) -> str:
    return ctx.find_root().obj["db"]


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--strict", is_flag=True, help="Stop at the first bad file and write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Parser processes (default: one per core; 1 parses in this process).",
)
@click.pass_context
def import_command(
    ctx: click.Context, paths: tuple[str, ...], strict: bool, quiet: bool, workers: int | None
) -> None:
    """Import record files and folders of them (- reads one record from stdin).

    Exit status: 0 all files imported, 1 some files rejected, 2 usage error.
    """
    if paths.count(STDIN) > 1:
        raise click.UsageError("- (stdin) can be given only once")
    archive = database.open_archive(_db(ctx))
    try:
        importer = Importer(archive, strict=strict, workers=workers)
        report_error: Callable[[RecordError], None] = lambda e: click.echo(  # noqa: E731
            f"rejected: {e}", err=True
        )
        if _show_progress(quiet) and STDIN not in paths:
            total = sum(1 for _ in find_record_files(paths))
            with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:
                summary = importer.run(
                    paths, on_file=lambda _p: bar.update(1), on_error=report_error
                )
        else:
            summary = importer.run(paths, on_error=report_error)
    except StrictAbort as exc:
        raise ArchiveError(str(exc)) from None
    finally:
        archive.close()
    if not quiet:
        click.echo(_format_summary(summary), err=True)
    ctx.exit(summary.exit_code)


def _format_summary(s: ImportSummary) -> str:
    return (
        f"files: {s.files_seen} seen, {s.new} new, {s.updated} updated, "
        f"{s.unchanged} unchanged, {s.rejected} rejected\n"
        f"added: {s.articles_added} articles, {s.providers_added} providers, "
        f"{s.topics_added} topics, {s.images_added} images"
    )


@cli.command("dump")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that already exist in FOLDER.")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@click.pass_context
def dump_command(ctx: click.Context, folder: str, force: bool, quiet: bool) -> None:
    """Write every archived record back out as a record file, exactly as imported."""
    archive = database.open_archive(_db(ctx), create=False)
    try:
        written = dump_module.dump(archive, folder, force=force)
    finally:
        archive.close()
    if not quiet:
        click.echo(f"wrote {written} record files to {folder}", err=True)


@cli.group("db")
def db_group() -> None:
    """Schema revisions (Alembic): upgrade, downgrade, current, history."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Upgrade the archive's schema (to the newest revision by default), after a backup."""
    result = database.upgrade(_db(ctx), revision)
    if result.backup:
        click.echo(f"backed up {result.location} to {result.backup}", err=True)
    click.echo(f"schema at {result.revision}")


@db_group.command("downgrade")
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the archive's schema to REVISION (e.g. -1, or a revision id), after a backup."""
    result = database.downgrade(_db(ctx), revision)
    if result.backup:
        click.echo(f"backed up {result.location} to {result.backup}", err=True)
    click.echo(f"schema at {result.revision}")


@db_group.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the archive's schema revision and whether it is the newest."""
    current = database.revision_of(_db(ctx))
    head = database.head_revision()
    click.echo(f"{current or 'none'}{' (head)' if current == head else f' (head is {head})'}")


@db_group.command("history")
def db_history() -> None:
    """List the schema revisions, newest first."""
    for revision, message in database.history():
        click.echo(f"{revision}  {message}")


def main() -> None:
    """Console entry point."""
    cli(prog_name="archive")
