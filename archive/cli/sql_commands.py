"""`archive sql` and `archive export`: a user's SQL, or a whole table, to rows."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from ..errors import UsageError
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

# An argument that starts with a dash but holds whitespace is no option's name:
# SQL that begins with a `-- comment` line.
_SQL_NOT_OPTION = re.compile(r"-+[^\s=]*\s", re.DOTALL)


class _SqlArgumentCommand(click.Command):
    """Reads an argument like '-- why\nSELECT ...' as SQL, not as an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _sql_last(self, ctx, args))


def _sql_last(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """`args` with an SQL argument that starts with `--` moved behind a `--`."""
    values = {  # option name -> how many values follow it
        name: param.nargs
        for param in command.get_params(ctx)
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    }
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            break
        if arg in values:
            index += 1 + values[arg]
            continue
        if _SQL_NOT_OPTION.match(arg):
            return [*args[:index], *args[index + 1 :], "--", arg]
        index += 1
    return args


def _read_sql(text: str | None, path: str | None, what: str) -> tuple[str, str | None]:
    """The SQL given as text, `-` (stdin) or in a file, and the file it came from."""
    if (text is None) == (path is None):
        raise UsageError(f"give {what} or -f FILE (one of them)")
    if text is not None and text != "-":
        return text, None
    source = path if path is not None else "-"
    if source == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(source, encoding="utf-8-sig") as file:
            return file.read(), source
    except FileNotFoundError:
        raise UsageError(f"{printable(source)}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"cannot read SQL from {printable(source)}: {reason}") from None


def _file_option(*names: str, help: str) -> Any:
    return click.option(
        *names,
        "sql_file",
        metavar="FILE",
        help=help,
        type=click.Path(dir_okay=False, allow_dash=True),
    )


@cli.command(
    "sql",
    cls=_SqlArgumentCommand,
    short_help="Run your own read-only SQL.",
    epilog=examples(
        "archive sql 'SELECT title, published_at FROM article_summary LIMIT 5'",
        "archive sql 'SELECT * FROM topic_article WHERE topic = :t' -p t AI",
        "archive sql 'PRAGMA table_info(article)' --format table",
        "archive sql $'-- a comment first\\nSELECT title FROM article LIMIT 3'",
        "echo 'SELECT count(*) AS articles FROM article' | archive sql -",
    ),
)
@click.argument("sql", required=False)
@_file_option("-f", "--file", help="Read the SQL from FILE (- : stdin).")
@user_sql_options
@output_options
@row_options
@click.pass_context
def sql_command(
    ctx: click.Context,
    sql: str | None,
    sql_file: str | None,
    params: tuple[tuple[str, str], ...],
    timeout: float,
    allow_superuser: bool,
    out: OutputOptions,
) -> None:
    """Run your own read-only SQL (one statement), e.g. SELECT * FROM article_summary.

    SQL is the statement, - to read it from stdin, or give -f FILE. Named
    parameters (:name) take their values from -p NAME VALUE. Writes, ATTACH,
    PRAGMA assignments, several statements at once and a /* comment that is never
    closed are refused.
    """
    text, source = _read_sql(sql, sql_file, "SQL")
    count = run_sql(
        db_location(ctx), text, dict(params), timeout, allow_superuser, out, source=source
    )
    check_empty(out, count)


@cli.command(
    "export",
    short_help="Export a table, view or query (CSV, JSON, Parquet).",
    epilog=examples(
        "archive export article_summary -o articles.csv --bom --excel-safe",
        "archive export topic_article --format jsonl",
        "archive export article_summary -o articles.parquet",
        "archive export --query 'SELECT * FROM article WHERE quality >= :q' -p q 60",
        "echo 'SELECT url FROM article' > q.sql; archive export --query-file q.sql",
    ),
)
@click.argument("name", required=False, shell_complete=complete_tables)
@click.option(
    "--query",
    "sql",
    metavar="SQL",
    help="Export this query's rows instead of a table or view (- : read it from stdin).",
)
@_file_option("--query-file", help="Export the rows of the query in FILE (- : stdin).")
@user_sql_options
@output_options
@row_options
@click.pass_context
def export_command(
    ctx: click.Context,
    name: str | None,
    sql: str | None,
    sql_file: str | None,
    timeout: float,
    allow_superuser: bool,
    params: tuple[tuple[str, str], ...],
    out: OutputOptions,
) -> None:
    """Export a table or view (NAME) or a query's rows: CSV, unless --format or the
    extension of -o FILE (.tsv, .json, .jsonl, .parquet) says otherwise.

    A query runs under the same read-only rules as archive sql.
    """
    from ..api import export
    from ..query.sql_text import checked_sql

    if sql is not None or sql_file is not None:
        if sql is not None and sql_file is not None:
            raise UsageError("give --query SQL or --query-file FILE, not both")
        sql, source = _read_sql(sql, sql_file, "--query SQL")
        checked_sql(sql, source=source)
    keep_freed_memory()
    limit_process_heap()
    count = export(
        db_location(ctx),
        name,
        sql=sql,
        params=dict(params),
        timeout=timeout,
        allow_superuser=allow_superuser,
        options=out,
    )
    if out.output not in (None, "-"):
        click.echo(f"wrote {count} rows to {printable(out.output)}", err=True)
    check_empty(out, count)
