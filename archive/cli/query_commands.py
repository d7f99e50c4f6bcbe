"""The query commands: a question's options in, the library's rows out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from ..output.formats import write
from ..query.filters import PERIODS, SEARCH_LIMIT, Filters
from ..rows import OutputOptions, Rows
from .app import cli
from .options import check_empty, date_filters, db_location, output_options

if TYPE_CHECKING:
    from types import ModuleType

    from ..query.reader import Reader


@contextmanager
def _reading(ctx: click.Context) -> Iterator[Reader]:
    # Plain sqlite3 (or psycopg): a query command starts without SQLAlchemy.
    from ..query.reader import open_reader

    reader = open_reader(db_location(ctx))
    try:
        yield reader
    finally:
        reader.close()


def _print(
    ctx: click.Context,
    make_rows: Callable[[ModuleType, Reader], Rows],
    out: OutputOptions,
    filters: Filters | None = None,
) -> None:
    """Run a query (make_rows gets the queries module and a reader) and write it.

    An empty answer caused by a --topic or --provider that names nothing in the
    archive says so on stderr, with the nearest names.
    """
    from ..query import queries

    with _reading(ctx) as reader:
        count = write(make_rows(queries, reader), out)
        if count == 0 and filters is not None:
            for note in queries.unknown_names(reader, filters):
                click.echo(f"note: {note}", err=True)
    check_empty(out, count)


@cli.command("providers")
@click.option(
    "--topic", multiple=True, help="Only articles with this topic (repeatable: any of them)."
)
@click.option("--provider", multiple=True, hidden=True)
@click.option(
    "--include-related", is_flag=True, help="Count the articles these articles link to as related."
)
@date_filters
@output_options
@click.pass_context
def providers_command(
    ctx: click.Context, filters: Filters, include_related: bool, out: OutputOptions
) -> None:
    """Providers by number of articles: which providers cover a topic?"""
    _print(
        ctx,
        lambda q, conn: q.providers(conn, filters, include_related=include_related),
        out,
        filters,
    )


@cli.command("topics")
@click.option(
    "--provider",
    multiple=True,
    metavar="DOMAIN",
    help="Only articles of this provider (repeatable).",
)
@date_filters
@output_options
@click.pass_context
def topics_command(ctx: click.Context, filters: Filters, out: OutputOptions) -> None:
    """Topics by number of articles."""
    _print(ctx, lambda q, conn: q.topics(conn, filters), out, filters)


@cli.command("articles")
@click.option(
    "--topic", multiple=True, help="Only articles with this topic (repeatable: any of them)."
)
@click.option(
    "--provider",
    multiple=True,
    metavar="DOMAIN",
    help="Only articles of this provider (repeatable).",
)
@click.option("--type", "type_", help="Only articles of this type (e.g. article, video).")
@click.option("--min-quality", type=int, help="Only articles with quality >= N.")
@click.option("--search", metavar="TEXT", help="Only articles matching this full-text search.")
@click.option(
    "--include-stubs", is_flag=True, help="Also articles known only from related entries."
)
@date_filters
@output_options
@click.pass_context
def articles_command(
    ctx: click.Context,
    filters: Filters,
    type_: str | None,
    min_quality: int | None,
    search: str | None,
    include_stubs: bool,
    out: OutputOptions,
) -> None:
    """Articles, newest first, with provider and topics."""
    _print(
        ctx,
        lambda q, conn: q.articles(
            conn,
            filters,
            type_=type_,
            min_quality=min_quality,
            search=search,
            include_stubs=include_stubs,
        ),
        out,
        filters,
    )


@cli.command("search")
@click.argument("words", nargs=-1, required=True, metavar="TEXT...")
@click.option("--topic", multiple=True, help="Only articles with this topic.")
@click.option("--provider", multiple=True, metavar="DOMAIN", help="Only articles of this provider.")
@date_filters
@output_options
@click.pass_context
def search_command(
    ctx: click.Context, words: tuple[str, ...], filters: Filters, out: OutputOptions
) -> None:
    """Full-text search in titles, excerpts and bodies, best matches first.

    TEXT uses SQLite FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*;
    several words need no quotes (archive search facial recognition).
    Shows the best 100 matches unless --limit says otherwise.
    """
    text = " ".join(words)
    limit = SEARCH_LIMIT if out.limit is None else out.limit
    _print(ctx, lambda q, conn: q.search(conn, text, filters, limit=limit), out, filters)


@cli.command("timeline")
@click.option("--topic", multiple=True, help="Only articles with this topic.")
@click.option("--provider", multiple=True, metavar="DOMAIN", help="Only articles of this provider.")
@click.option("--by", type=click.Choice(PERIODS), default="month", show_default=True)
@date_filters
@output_options
@click.pass_context
def timeline_command(ctx: click.Context, filters: Filters, by: str, out: OutputOptions) -> None:
    """Articles per period (empty ones too) and their share of all articles then."""
    _print(ctx, lambda q, conn: q.timeline(conn, filters, by=by), out, filters)


@cli.command("cooccur")
@click.option("--topic", required=True, help="The topic to find companions of.")
@click.option("--provider", multiple=True, metavar="DOMAIN", help="Only articles of this provider.")
@date_filters
@output_options
@click.pass_context
def cooccur_command(ctx: click.Context, filters: Filters, out: OutputOptions) -> None:
    """Topics that appear together with --topic, with counts."""
    topic = filters.topics[0]
    rest = Filters((), filters.providers, filters.since, filters.until)
    _print(ctx, lambda q, conn: q.cooccur(conn, topic, rest), out, filters)


@cli.command("related")
@click.argument("url")
@output_options
@click.pass_context
def related_command(ctx: click.Context, url: str, out: OutputOptions) -> None:
    """The articles URL links to, and the articles that link to it."""
    _print(ctx, lambda q, conn: q.related(conn, url), out)


@cli.command("show")
@click.argument("url")
@output_options
@click.pass_context
def show_command(ctx: click.Context, url: str, out: OutputOptions) -> None:
    """One article in full: fields, provider, topics, images, related, source file."""
    _print(ctx, lambda q, conn: q.show(conn, url), out)


@cli.command("stats")
@output_options
@click.pass_context
def stats_command(ctx: click.Context, out: OutputOptions) -> None:
    """Rows per table, date range, database size and schema revision."""
    _print(ctx, lambda q, conn: q.stats(conn), out)
