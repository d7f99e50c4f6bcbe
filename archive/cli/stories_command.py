"""`archive stories`: the largest stories, why two articles are one, re-clustering."""

from __future__ import annotations

import click

from ..errors import UsageError
from ..output.formats import write
from ..query.filters import Filters
from ..rows import OutputOptions
from .app import cli
from .options import check_empty, date_filters, db_location, examples, output_options
from .query_commands import _reading, provider_filter, topic_filter


@cli.command(
    "stories",
    short_help="Copies of one text, grouped: the largest stories.",
    epilog=examples(
        "archive stories",
        "archive stories --topic AI --limit 10",
        "archive stories --explain youtu.be/EXAMPLEvid2 youtu.be/EXAMPLEvid1",
        "archive stories --rebuild",
    ),
)
@topic_filter
@provider_filter
@click.option(
    "--explain", nargs=2, metavar="URL URL",
    help="Say why two articles are or are not one story.",
)  # fmt: skip
@click.option(
    "--rebuild", is_flag=True,
    help="Group every article again (after the rules changed); --missing resumes it.",
)  # fmt: skip
@click.option(
    "--missing", is_flag=True,
    help="Group the articles that have no story yet (an upgraded archive, imports with"
    " --no-stories, an interrupted --rebuild).",
)  # fmt: skip
@date_filters
@output_options
@click.pass_context
def stories_command(
    ctx: click.Context,
    filters: Filters,
    explain: tuple[str, str] | None,
    rebuild: bool,
    missing: bool,
    out: OutputOptions,
) -> None:
    """Stories of more than one article, largest first: copies of one text or
    announcement under several providers (docs/stories.md), with the first
    publication, its provider and every provider's name."""
    if rebuild or missing:
        if explain:
            raise UsageError("--explain reads stories: give it without --rebuild or --missing")
        _recluster(ctx, rebuild=rebuild)
        return
    from ..query import stories

    with _reading(ctx) as reader:
        rows = stories.explain(reader, *explain) if explain else stories.largest(reader, filters)
        count = write(rows, out)
        waiting = stories.unassigned(reader)
    if waiting and not explain:
        click.echo(
            f"note: {waiting} articles have no story yet: `archive stories --missing` groups them",
            err=True,
        )
    check_empty(out, count)


def _recluster(ctx: click.Context, *, rebuild: bool) -> None:
    from ..ingest.stories import recluster
    from ..store import database

    archive = database.open_archive(db_location(ctx), create=False)
    try:
        done = recluster(archive, rebuild=rebuild)
    finally:
        archive.close()
    click.echo(f"assigned {done} articles to stories", err=True)
