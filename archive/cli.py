"""The `archive` command: parse options, call the library, print results. No logic here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from .errors import ArchiveError, RecordError, UsageError
from .output.formats import FORMATS, keep_freed_memory, write
from .query.filters import PERIODS, SEARCH_LIMIT, Filters, parse_date
from .query.readonly_sql import DEFAULT_TIMEOUT, open_query
from .rows import OutputOptions, Rows
from .store.location import DEFAULT_DB, password_of, shown

if TYPE_CHECKING:
    from types import ModuleType

    from sqlalchemy import Connection

    from .ingest.summary import ImportSummary

# SQLAlchemy and the models (database, queries), the importer (rapidyaml, ural,
# multiprocessing) and export load inside the commands that need them, so that
# --help, `archive sql` and `archive export` start quickly.


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


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


@click.group(cls=_ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    envvar="ARCHIVE_DB",
    default=DEFAULT_DB,
    show_default=True,
    metavar="PATH",
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


def _db(ctx: click.Context) -> str:
    return ctx.find_root().obj["db"]


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

    Exit status: 0 all files imported, 1 some files rejected, 2 usage error.
    """
    from .ingest.files import RECORD_SUFFIXES, STDIN, find_record_files
    from .ingest.importer import Importer, StrictAbort
    from .store import database

    if paths.count(STDIN) > 1:
        raise click.UsageError("- (stdin) can be given only once")
    archive = database.open_archive(_db(ctx))
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


@cli.command("dump")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that already exist in FOLDER.")
@click.option("-q", "--quiet", is_flag=True, help="No summary.")
@click.pass_context
def dump_command(ctx: click.Context, folder: str, force: bool, quiet: bool) -> None:
    """Write every archived record back out as a record file, exactly as imported."""
    from .store import database

    archive = database.open_archive(_db(ctx), create=False)
    try:
        from .query.dump import dump

        written = dump(archive, folder, force=force)
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
    from .store import database

    result = database.upgrade(_db(ctx), revision)
    if result.backup:
        click.echo(f"backed up {result.location} to {result.backup}", err=True)
    if result.notice:
        click.echo(f"warning: {result.notice}", err=True)
    click.echo(f"schema at {result.revision}")


# "-1" (one revision down) is a revision, not an option.
@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Downgrade the archive's schema to REVISION (e.g. -1, or a revision id), after a backup."""
    from .store import database

    result = database.downgrade(_db(ctx), revision)
    if result.backup:
        click.echo(f"backed up {result.location} to {result.backup}", err=True)
    if result.notice:
        click.echo(f"warning: {result.notice}", err=True)
    click.echo(f"schema at {result.revision}")


@db_group.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the archive's schema revision and whether it is the newest."""
    from .store import database
    from .store.schema_version import HEAD_REVISION as head

    current = database.revision_of(_db(ctx))
    click.echo(f"{current or 'none'}{' (head)' if current == head else f' (head is {head})'}")


@db_group.command("grant-reader")
@click.argument("role")
@click.option("--login/--no-login", default=True, show_default=True,
              help="Create the role able to log in (it needs a password or other auth to).")  # fmt: skip
@click.pass_context
def db_grant_reader(ctx: click.Context, role: str, login: bool) -> None:
    """PostgreSQL: let ROLE (created if missing) read the archive and nothing more."""
    from .store import database

    created = database.grant_reader(_db(ctx), role, login=login)
    click.echo(
        f"{'created role' if created else 'role'} {role}: may read the archive's tables and views"
    )


@db_group.command("history")
def db_history() -> None:
    """List the schema revisions, newest first."""
    from .store import database

    for revision, message in database.history():
        click.echo(f"{revision}  {message}")


# --- shared options ----------------------------------------------------------------


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The output options every command that prints rows takes, in one place."""

    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        help="Output format (default: from the extension of -o FILE, else table on a"
        " terminal and csv otherwise).",
    )
    @click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
    @click.option("--limit", type=click.IntRange(min=0), help="At most N rows.")
    @click.option("--no-headers", is_flag=True, help="No header row (csv, tsv, table).")
    @click.option(
        "--bom", is_flag=True, help="Start with a UTF-8 byte order mark (for Excel; csv, tsv)."
    )
    @click.option(
        "--excel-safe",
        is_flag=True,
        help="Prefix text cells starting with = + - @ with ' (spreadsheets).",
    )
    @click.option("--force", is_flag=True, help="Replace FILE if it exists.")
    @functools.wraps(command)
    def wrapper(*args: Any, fmt: str | None, output: str | None, limit: int | None, no_headers: bool,
                bom: bool, excel_safe: bool, force: bool, **kwargs: Any) -> Any:  # fmt: skip
        kwargs["out"] = OutputOptions(
            format=fmt,
            output=output,
            limit=limit,
            headers=not no_headers,
            bom=bom,
            excel_safe=excel_safe,
            force=force,
        )
        return command(*args, **kwargs)

    return wrapper


def date_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """--since/--until on published time, turned into Filters."""

    @click.option(
        "--since", metavar="DATE", help="Published on or after DATE (YYYY, YYYY-MM, YYYY-MM-DD)."
    )
    @click.option(
        "--until", metavar="DATE", help="Published on or before DATE (whole day, month or year)."
    )
    @functools.wraps(command)
    def wrapper(*args: Any, since: str | None, until: str | None, **kwargs: Any) -> Any:
        topics = kwargs.pop("topic", ()) or ()
        providers = kwargs.pop("provider", ()) or ()
        kwargs["filters"] = Filters(
            topics=(topics,) if isinstance(topics, str) else tuple(topics),
            providers=(providers,) if isinstance(providers, str) else tuple(providers),
            since=parse_date(since) if since else None,
            until=parse_date(until, end=True) if until else None,
        )
        start, end = kwargs["filters"].since, kwargs["filters"].until
        if start is not None and end is not None and start >= end:
            # An empty answer would look like "nothing was published": say why instead.
            raise UsageError(f"--since {since} is after --until {until}: no date is in that range")
        return command(*args, **kwargs)

    return wrapper


@contextmanager
def _reading(ctx: click.Context) -> Iterator[Connection]:
    from .store import database

    archive = database.open_archive(_db(ctx), create=False)
    try:
        with archive.connect() as conn:
            yield conn
    finally:
        archive.close()


def _print(
    ctx: click.Context, make_rows: Callable[[ModuleType, Connection], Rows], out: OutputOptions
) -> None:
    """Run a query (make_rows gets the queries module and a connection) and write it."""
    from .query import queries

    with _reading(ctx) as conn:
        write(make_rows(queries, conn), out)


# --- query commands -------------------------------------------------------------------


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
    _print(ctx, lambda q, conn: q.providers(conn, filters, include_related=include_related), out)


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
    _print(ctx, lambda q, conn: q.topics(conn, filters), out)


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
    _print(ctx, lambda q, conn: q.search(conn, text, filters, limit=limit), out)


@cli.command("timeline")
@click.option("--topic", multiple=True, help="Only articles with this topic.")
@click.option("--provider", multiple=True, metavar="DOMAIN", help="Only articles of this provider.")
@click.option("--by", type=click.Choice(PERIODS), default="month", show_default=True)
@date_filters
@output_options
@click.pass_context
def timeline_command(ctx: click.Context, filters: Filters, by: str, out: OutputOptions) -> None:
    """Articles per period (empty ones too) and their share of all articles then."""
    _print(ctx, lambda q, conn: q.timeline(conn, filters, by=by), out)


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
    _print(ctx, lambda q, conn: q.cooccur(conn, topic, rest), out)


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
    _print(ctx, lambda q, conn: q.stats(conn, _db(ctx)), out)


def user_sql_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that runs a user's SQL (sql, export), in one place."""
    options = [
        click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
                     help="Bind :NAME to VALUE (repeatable)."),
        click.option("--timeout", type=click.FloatRange(min=0.001), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="SECONDS",
                     help="Interrupt the query after this many seconds."),
        click.option("--allow-superuser", is_flag=True,
                     help="On PostgreSQL, run even when connected as a superuser."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("sql")
@click.argument("sql")
@user_sql_options
@output_options
@click.pass_context
def sql_command(
    ctx: click.Context,
    sql: str,
    params: tuple[tuple[str, str], ...],
    timeout: float,
    allow_superuser: bool,
    out: OutputOptions,
) -> None:
    """Run your own read-only SQL (one statement), e.g. SELECT * FROM article_summary."""
    keep_freed_memory()
    query = open_query(_db(ctx), timeout=timeout, allow_superuser=allow_superuser)
    try:
        write(query.run(sql, dict(params)), out)
    finally:
        query.close()


@cli.command("export")
@click.argument("name", required=False)
@click.option(
    "--query", "sql", metavar="SQL", help="Export this query's rows instead of a table or view."
)
@user_sql_options
@output_options
@click.pass_context
def export_command(
    ctx: click.Context,
    name: str | None,
    sql: str | None,
    timeout: float,
    allow_superuser: bool,
    params: tuple[tuple[str, str], ...],
    out: OutputOptions,
) -> None:
    """Export a table or view (NAME) or a query's rows: CSV, unless --format or the
    extension of -o FILE (.tsv, .json, .jsonl) says otherwise."""
    keep_freed_memory()
    if out.format is None and out.output in (None, "-"):
        out.format = "csv"  # even on a terminal: an export is data, not a table to read
    from .query.export import export

    count = export(
        _db(ctx),
        name,
        sql,
        out,
        timeout=timeout,
        allow_superuser=allow_superuser,
        params=dict(params),
    )
    if out.output not in (None, "-"):
        click.echo(f"wrote {count} rows to {out.output}", err=True)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every network interface).")  # fmt: skip
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port to listen on (0: any free port).")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the home page in a web browser.")
@click.option(
    "--write-metadata",
    metavar="FILE",
    help="Write the Datasette metadata (JSON) to FILE (- for stdout) and exit, for a plain"
    " `datasette` run.",
)
@click.option("--force", is_flag=True, help="Replace the metadata FILE if it exists.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    open_browser: bool,
    write_metadata: str | None,
    force: bool,
) -> None:
    """Browse the archive in a web browser (Datasette), read-only.

    Tables, views, facets, full-text search, a JSON API, the questions of the query
    commands as forms, and a timeline chart. Ctrl-C stops it.
    """
    from .serve import server

    path = server.archive_path(_db(ctx))
    if write_metadata is not None:
        import json

        from .output.formats import destination
        from .serve.metadata import metadata

        with destination(OutputOptions(output=write_metadata, force=force), sys.stdout) as stream:
            json.dump(metadata(path.stem), stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        if write_metadata != "-":
            command = server.datasette_command(path, write_metadata)
            click.echo(f"wrote {write_metadata}; serve it with:\n  {command}", err=True)
        return
    sock = server.listen(host, port)
    had_sidecars = server.sidecars_exist(path)
    datasette = server.datasette_for(path)

    def ready(url: str) -> None:
        click.echo(f"serving {path} read-only at {url} (Ctrl-C stops)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        server.run(datasette, sock, on_ready=ready)
    finally:
        if not had_sidecars:
            server.tidy_sidecars(path)


def main() -> None:
    """Console entry point."""
    cli(prog_name="archive")
