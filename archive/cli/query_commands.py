"""The query commands: a question's options in, the library's rows out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

import click

from ..errors import UsageError
from ..messages import printable
from ..output.formats import write
from ..query.filters import PERIODS, SEARCH_LIMIT, Filters
from ..rows import OutputOptions, Rows
from .app import cli
from .completion import complete_providers, complete_topics
from .options import (
    Number,
    check_empty,
    date_filters,
    db_location,
    examples,
    output_options,
    row_options,
)
from .search_words import SearchCommand, unmarked

if TYPE_CHECKING:
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
                click.echo(f"note: {printable(note)}", err=True)
    check_empty(out, count)


# The filters most questions take, described once. (click makes a new Option each
# time one of these decorates a command.)
topic_filter = click.option(
    "--topic", multiple=True, metavar="TOPIC", shell_complete=complete_topics,
    help="Only articles with this topic (repeatable: any of them).",
)  # fmt: skip
all_topics_option = click.option(
    "--all-topics", is_flag=True,
    help="With several --topic: only articles that have all of them (default: any).",
)  # fmt: skip
provider_filter = click.option(
    "--provider", multiple=True, metavar="DOMAIN", shell_complete=complete_providers,
    help="Only articles of this provider (repeatable: any of them).",
)  # fmt: skip
by_story = click.option(
    "--by-story", is_flag=True,
    help="Count stories, not articles: copies of one text (docs/stories.md) count once.",
)  # fmt: skip


def _stories() -> ModuleType:
    from ..query import stories

    return stories


@cli.command(
    "providers",
    short_help="Which providers cover a topic.",
    epilog=examples(
        "archive providers --topic AI",
        "archive providers --topic 'Computer Vision' --include-related",
        "archive providers --topic AI --topic Privacy --since 2020 --format json",
        "archive providers --topic AI --by-story",
        "archive providers --topic AI --topic Elections --all-topics",
    ),
)
@topic_filter
@all_topics_option
@click.option("--provider", multiple=True, hidden=True)
@click.option(
    "--include-related", is_flag=True, help="Count the articles these articles link to as related."
)
@by_story
@date_filters
@output_options
@row_options
@click.pass_context
def providers_command(
    ctx: click.Context,
    filters: Filters,
    include_related: bool,
    by_story: bool,
    out: OutputOptions,
) -> None:
    """Providers by number of articles: which providers cover a topic?

    Each provider with its articles (own records), first and last publication and
    share of the articles counted, most articles first. With --by-story, stories
    instead: `first` counts those it published before the others in the answer,
    `copies` those it republished.
    """
    if by_story and include_related:
        raise UsageError("--by-story counts own records only: leave out --include-related")
    if by_story:
        _print(ctx, lambda q, conn: _stories().providers(conn, filters), out, filters)
        return
    _print(
        ctx,
        lambda q, conn: q.providers(conn, filters, include_related=include_related),
        out,
        filters,
    )


@cli.command(
    "topics",
    short_help="Topics by number of articles.",
    epilog=examples(
        "archive topics",
        "archive topics --provider theguardian.com",
        "archive topics --since 2020-08 --until 2020-09 --limit 5",
        "archive topics --by-story",
    ),
)
@provider_filter
@by_story
@date_filters
@output_options
@row_options
@click.pass_context
def topics_command(
    ctx: click.Context, filters: Filters, by_story: bool, out: OutputOptions
) -> None:
    """Topics by number of articles, with first and last publication."""
    if by_story:
        _print(ctx, lambda q, conn: _stories().topics(conn, filters), out, filters)
        return
    _print(ctx, lambda q, conn: q.topics(conn, filters), out, filters)


@cli.command(
    "articles",
    short_help="Articles, newest first.",
    epilog=examples(
        "archive articles --topic Elections --format table",
        "archive articles --provider theguardian.com --since 2020-08",
        "archive articles --type video",
        "archive articles --topic AI --min-quality 60 --limit 5",
        "archive articles --columns published_at,title,url --sort -quality --limit 5",
        "archive articles --search 'facial recognition' --format jsonl",
    ),
)
@topic_filter
@all_topics_option
@provider_filter
@click.option("--type", "type_", metavar="TYPE",
              help="Only articles of this type (e.g. article, video).")  # fmt: skip
@click.option("--min-quality", type=Number(0), metavar="N",
              help="Only articles with quality N or more.")  # fmt: skip
@click.option("--search", metavar="TEXT",
              help="Only articles matching this full-text search (as archive search).")  # fmt: skip
@click.option(
    "--include-stubs", is_flag=True, help="Also articles known only from related entries."
)
@click.option(
    "--include-removed",
    is_flag=True,
    help="Also articles whose file was deleted (import --git); they have no topics.",
)
@date_filters
@output_options
@row_options
@click.pass_context
def articles_command(
    ctx: click.Context,
    filters: Filters,
    type_: str | None,
    min_quality: int | None,
    search: str | None,
    include_stubs: bool,
    include_removed: bool,
    out: OutputOptions,
) -> None:
    """Articles, newest first, with provider and topics.

    Articles known only from other records' related entries are left out unless
    --include-stubs; articles whose file was deleted, unless --include-removed.
    """
    _print(
        ctx,
        lambda q, conn: q.articles(
            conn,
            filters,
            type_=type_,
            min_quality=min_quality,
            search=search,
            include_stubs=include_stubs,
            include_removed=include_removed,
        ),
        out,
        filters,
    )


@cli.command(
    "search",
    cls=SearchCommand,
    short_help="Full-text search, best matches first.",
    epilog=examples(
        "archive search '\"facial recognition\" police' --limit 3",
        "archive search facial-recognition -police since:2020-08",
        "archive search 'deepfake* OR clearview' --since 2020 --format csv",
        "archive search 识别",
    ),
)
@click.argument("words", nargs=-1, required=True, metavar="TEXT...")
@topic_filter
@provider_filter
@date_filters
@output_options
@row_options
@click.pass_context
def search_command(
    ctx: click.Context, words: tuple[str, ...], filters: Filters, out: OutputOptions
) -> None:
    """Full-text search in titles, excerpts and bodies, best matches first.

    TEXT: words (all must match; covid-19, C++ and AI/ML are words), "a phrase",
    OR, -word or NOT word, prefix*, and topic:, provider:, since:, until:, type:
    (docs/questions.md). Chinese, Japanese and Korean text is found anywhere in a word.
    Shows the best 100 matches unless --limit says otherwise.
    """
    text = " ".join(unmarked(words))
    if not text.strip():
        raise UsageError("no search text given: e.g. archive search facial recognition")
    limit = SEARCH_LIMIT if out.limit is None else out.limit
    _print(ctx, lambda q, conn: q.search(conn, text, filters, limit=limit), out, filters)


@cli.command(
    "timeline",
    short_help="Articles per day, week, month or year.",
    epilog=examples(
        "archive timeline --topic AI --by year",
        "archive timeline --provider theguardian.com --by week --since 2020-08",
        "archive timeline --topic Elections --format csv -o elections.csv",
        "archive timeline --topic AI --topic Privacy --compare --by year",
    ),
)
@topic_filter
@all_topics_option
@provider_filter
@click.option("--by", type=click.Choice(PERIODS), default="month", show_default=True,
              help="The length of a period; weeks are ISO weeks (2020-W05).")  # fmt: skip
@by_story
@click.option("--compare", is_flag=True,
              help="One count and share column per --topic (or per --provider).")  # fmt: skip
@date_filters
@output_options
@row_options
@click.pass_context
def timeline_command(
    ctx: click.Context,
    filters: Filters,
    by: str,
    by_story: bool,
    compare: bool,
    out: OutputOptions,
) -> None:
    """Articles per period (empty ones too) and their share of all articles then.

    A period with no articles at all has no share (empty, not 0); without --topic
    or --provider there is no share to show. With --compare, each topic (or
    provider) is a series of its own: one row per period with all articles, then
    each series' articles and share. On a terminal each row also gets a bar. With
    --by-story, stories, each in the period of its first article.
    """
    if compare and filters.needs_every_topic():
        raise UsageError("--compare and --all-topics do not go together: compare each topic")
    if compare and not (filters.topics or filters.providers):
        raise UsageError("--compare needs series to compare: e.g. --topic AI --topic Privacy")
    if by_story:
        if compare:
            raise UsageError("--compare counts articles: run it without --by-story")
        _print(ctx, lambda q, conn: _stories().timeline(conn, filters, by=by), out, filters)
        return
    _print(ctx, lambda q, conn: q.timeline(conn, filters, by=by, compare=compare), out, filters)


@cli.command(
    "cooccur",
    short_help="Topics that appear together with a topic.",
    epilog=examples(
        "archive cooccur --topic Elections",
        "archive cooccur --topic AI --provider theverge.com --limit 5",
    ),
)
@click.option("--topic", required=True, metavar="TOPIC", shell_complete=complete_topics,
              help="The topic to find companions of.")  # fmt: skip
@provider_filter
@by_story
@date_filters
@output_options
@row_options
@click.pass_context
def cooccur_command(
    ctx: click.Context, filters: Filters, by_story: bool, out: OutputOptions
) -> None:
    """Topics that appear on the same articles as --topic, with the number of those
    articles and their share of the topic's articles."""
    topic = filters.topics[0]
    rest = Filters((), filters.providers, filters.since, filters.until)
    if by_story:
        _print(ctx, lambda q, conn: _stories().cooccur(conn, topic, rest), out, filters)
        return
    _print(ctx, lambda q, conn: q.cooccur(conn, topic, rest), out, filters)


@cli.command(
    "related",
    short_help="Articles linked to or from an article.",
    epilog=examples(
        "archive related https://youtu.be/EXAMPLEvid2",
        "archive related https://www.bbc.co.uk/news/uk-example-51237665",
    ),
)
@click.argument("url")
@output_options
@row_options
@click.pass_context
def related_command(ctx: click.Context, url: str, out: OutputOptions) -> None:
    """The articles URL links to as related, and the articles that link to it.

    URL may be written in any form that identifies the article (www., tracking
    parameters, AMP and short video links do not matter).
    """
    _print(ctx, lambda q, conn: q.related(conn, url), out)


@cli.command(
    "show",
    short_help="One article in full.",
    epilog=examples(
        "archive show https://youtube.com/watch?v=EXAMPLEvid1",
        "archive show https://www.bbc.co.uk/news/uk-example-51237665 --format json",
    ),
)
@click.argument("url")
@click.option(
    "--files",
    is_flag=True,
    help="List every other file that describes the article (default: the first 3).",
)
@output_options
@click.pass_context
def show_command(ctx: click.Context, url: str, files: bool, out: OutputOptions) -> None:
    """One article in full: fields, provider, topics, images, related, source file;
    then the other files that describe it.

    URL may be written in any form that identifies the article.
    """
    _print(ctx, lambda q, conn: q.show(conn, url, files=files), out)


@cli.command(
    "history",
    short_help="An article's versions, newest first.",
    epilog=examples(
        "archive history https://youtube.com/watch?v=EXAMPLEvid1",
        "archive history https://youtu.be/EXAMPLEvid1 --fields title,topics",
        "archive history https://youtu.be/EXAMPLEvid1 --hide-signature --format json",
    ),
)
@click.argument("url")
@click.option(
    "--fields",
    metavar="NAMES",
    default="",
    help="Only versions that changed one of these record keys (comma-separated, e.g."
    " title,topics,body), and only these.",
)
@click.option(
    "--hide-signature",
    is_flag=True,
    help="Leave out versions that changed only the signature (secured).",
)
@output_options
@click.pass_context
def history_command(
    ctx: click.Context, url: str, fields: str, hide_signature: bool, out: OutputOptions
) -> None:
    """An article's versions, newest first: each file content that described it,
    with its time (the commit's, for git), status, path, commit and the record keys
    it changed. A deleted file shows as `removed`.

    URL may be written in any form that identifies the article.
    """
    from ..query.history import history

    names = [name.strip() for name in fields.split(",") if name.strip()]
    _print(
        ctx,
        lambda _q, conn: history(conn, url, fields=names, hide_signature=hide_signature),
        out,
    )


@cli.command(
    "stats",
    short_help="Rows per table, dates, size, revision.",
    epilog=examples("archive stats", "archive stats --format json"),
)
@output_options
@click.pass_context
def stats_command(ctx: click.Context, out: OutputOptions) -> None:
    """Rows per table, date range, database size and schema revision."""
    _print(ctx, lambda q, conn: q.stats(conn), out)
