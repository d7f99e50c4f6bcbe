"""`archive import`: record files in, with progress on a terminal and a summary."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..errors import ArchiveError, RecordError
from .app import cli
from .options import db_location

if TYPE_CHECKING:
    from ..ingest.summary import ImportSummary


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--strict", is_flag=True, help="Stop at the first bad file and write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--max-file-size",
    type=click.FloatRange(min=0.001),
    default=10.0,
    show_default=True,
    metavar="MB",
    help="Reject record files larger than this.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Parser processes beside the writer (default: one per core but the writer's,"
    " at least 1, at most 4; 0 parses in this process).",
)
@click.option(
    "--commit-every",
    type=click.IntRange(min=1),
    default=None,
    metavar="FILES",
    help="Commit after this many files (default 5,000; also after 5 seconds). Smaller"
    " lets readers and other imports see progress sooner; larger imports faster.",
)
@click.pass_context
def import_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    strict: bool,
    quiet: bool,
    max_file_size: float,
    workers: int | None,
    commit_every: int | None,
) -> None:
    """Import record files and folders of them (- reads one record from stdin).

    Exit status: 0 all files imported, 1 some files rejected, 2 usage error, 3 the
    schema is out of date (archive db upgrade), 4 the archive stayed busy, 5 it
    cannot be opened or written, 130 interrupted.
    """
    from ..ingest.files import RECORD_SUFFIXES, STDIN, find_record_files
    from ..ingest.importer import Importer, StrictAbort
    from ..store import database

    if paths.count(STDIN) > 1:
        raise click.UsageError("- (stdin) can be given only once")
    archive = database.open_archive(db_location(ctx))
    try:
        importer = Importer(
            archive,
            strict=strict,
            workers=workers,
            max_file_bytes=int(max_file_size * 1024 * 1024),
            commit_files=commit_every,
        )
        report_error: Callable[[RecordError], None] = lambda e: click.echo(  # noqa: E731
            f"rejected: {e}", err=True
        )
        if _show_progress(quiet) and STDIN not in paths:
            total = sum(1 for _ in find_record_files(paths))
            with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:

                def show_stage(label: str) -> None:
                    bar.label = label
                    bar.render_progress()

                summary = importer.run(
                    paths,
                    on_file=lambda _p: bar.update(1),
                    on_error=report_error,
                    on_stage=show_stage,
                )
        else:
            summary = importer.run(paths, on_error=report_error)
    except StrictAbort as exc:
        raise ArchiveError(str(exc)) from None
    finally:
        archive.close()
    if not quiet:
        click.echo(_format_summary(summary, pairs=3 if sys.stderr.isatty() else 0), err=True)
        if summary.files_seen == 0:
            click.echo(
                f"note: no record files in {', '.join(paths)} (folders are searched for"
                f" {', '.join(RECORD_SUFFIXES)} files; hidden ones are skipped)",
                err=True,
            )
    ctx.exit(summary.exit_code)


def _format_summary(s: ImportSummary, *, pairs: int = 0) -> str:
    """The import summary; on a terminal it also names the first few merged files."""
    lines = [
        f"files: {s.files_seen} seen, {s.new} new, {s.updated} updated, "
        f"{s.unchanged} unchanged, {s.rejected} rejected",
        f"added: {s.articles_added} articles, {s.providers_added} providers, "
        f"{s.topics_added} topics, {s.images_added} images",
    ]
    if s.merged:
        lines.append(
            f"merged: {s.merged} {'file describes' if s.merged == 1 else 'files describe'}"
            " an article that another file also describes (all are kept; the last imported"
            " is shown)"
        )
        lines += [f"  {path} after {other}" for path, other in s.merged_pairs[:pairs]]
        if s.merged > pairs > 0:
            lines.append(f"  ... and {s.merged - pairs} more")
    return "\n".join(lines)
