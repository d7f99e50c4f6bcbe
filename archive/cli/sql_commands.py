"""`archive sql` and `archive export`: a user's SQL, or a whole table, to rows."""

from __future__ import annotations

import click

from ..messages import printable
from ..output.formats import keep_freed_memory
from ..rows import OutputOptions
from ..store.sqlite_limits import limit_process_heap
from .app import cli
from .completion import complete_tables
from .front import run_sql
from .options import (
    check_empty,
    db_location,
    examples,
    output_options,
    row_options,
    user_sql_options,
)


@cli.command(
    "sql",
    short_help="Run your own read-only SQL.",
    epilog=examples(
        "archive sql 'SELECT title, published_at FROM article_summary LIMIT 5'",
        "archive sql 'SELECT * FROM topic_article WHERE topic = :t' -p t AI",
        "archive sql 'PRAGMA table_info(article)' --format table",
    ),
)
@click.argument("sql")
@user_sql_options
@output_options
@row_options
@click.pass_context
def sql_command(
    ctx: click.Context,
    sql: str,
    params: tuple[tuple[str, str], ...],
    timeout: float,
    allow_superuser: bool,
    out: OutputOptions,
) -> None:
    """Run your own read-only SQL (one statement), e.g. SELECT * FROM article_summary.

    Named parameters (:name) take their values from -p NAME VALUE. Writes, ATTACH,
    PRAGMA assignments and several statements at once are refused.
    """
    count = run_sql(db_location(ctx), sql, dict(params), timeout, allow_superuser, out)
    check_empty(out, count)


@cli.command(
    "export",
    short_help="Export a table, view or query (CSV, JSON, Parquet).",
    epilog=examples(
        "archive export article_summary -o articles.csv --bom --excel-safe",
        "archive export topic_article --format jsonl",
        "archive export article_summary -o articles.parquet",
        "archive export --query 'SELECT * FROM article WHERE quality >= :q' -p q 60",
    ),
)
@click.argument("name", required=False, shell_complete=complete_tables)
@click.option(
    "--query", "sql", metavar="SQL", help="Export this query's rows instead of a table or view."
)
@user_sql_options
@output_options
@row_options
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
    extension of -o FILE (.tsv, .json, .jsonl, .parquet) says otherwise.

    A query runs under the same read-only rules as archive sql.
    """
    keep_freed_memory()
    limit_process_heap()
    if out.format is None and out.output in (None, "-"):
        out.format = "csv"  # even on a terminal: an export is data, not a table to read
    from ..query.export import export

    count = export(
        db_location(ctx),
        name,
        sql,
        out,
        timeout=timeout,
        allow_superuser=allow_superuser,
        params=dict(params),
    )
    if out.output not in (None, "-"):
        click.echo(f"wrote {count} rows to {printable(out.output)}", err=True)
    check_empty(out, count)
