"""Option decorators the commands share, so each option is described once."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from ..errors import EmptyAnswer, UsageError
from ..messages import shown
from ..output.formats import FORMATS
from ..query.filters import Filters, parse_date
from ..query.readonly_sql import DEFAULT_TIMEOUT
from ..record_format import INTEGER_RANGE
from ..rows import OutputOptions
from ..store.location import archive_files
from .completion import complete_files, complete_providers, complete_topics

INTEGER_MAX = INTEGER_RANGE[1]


class Number(click.ParamType):
    """A whole (or decimal) number within bounds, with its bounds in words.

    Rather than click's IntRange/FloatRange, whose help shows `INTEGER RANGE [x>=0]`
    and whose errors say "not in the range x>=0": each option names its number
    (N, MB, SECONDS, PORT) with a metavar, and a mistake reads "must be at least 1".
    """

    name = "number"

    def __init__(self, least: float, most: float | None = None, *, whole: bool = True) -> None:
        self.least, self.most, self.whole = least, most, whole

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        kind: type = int if self.whole else float
        try:
            number = value if type(value) is kind else kind(str(value).strip())
        except ValueError:
            self.fail(f"{shown(value)} is not a {'whole ' if self.whole else ''}number", param, ctx)
        # `not >=` also refuses NaN, which every comparison calls false.
        if not number >= self.least or (self.most is not None and not number <= self.most):
            self.fail(f"{self._shown(value, number)} is not {self.bounds()}", param, ctx)
        # Without a bound of its own, a whole number must fit SQL's 64-bit integers
        # (it may reach a LIMIT or a comparison with a column), a decimal be finite.
        if self.whole and number > INTEGER_MAX:
            self.fail(
                f"{self._shown(value, number)} is more than {INTEGER_MAX}, the largest"
                " whole number the archive holds",
                param,
                ctx,
            )
        if not self.whole and not math.isfinite(number):
            self.fail(f"{self._shown(value, number)} is not a finite number", param, ctx)
        return number

    def _shown(self, value: Any, number: float) -> str:
        return shown(number) if self.whole else shown(str(value).strip()).strip("'")

    def bounds(self) -> str:
        """The allowed values in words: "at least 1", "from 0 to 65535"."""
        if self.most is None:
            return f"at least {self.least:g}"
        return f"from {self.least:g} to {self.most:g}"


def examples(*lines: str) -> str:
    """An epilog of example command lines, which click must not rewrap (`\\b`).

    Each line is run on an archive of data/ by tests/test_help.py, so they stay true.
    """
    return "Examples:\n\n\b\n" + "\n".join("  " + line for line in lines)


def db_location(ctx: click.Context) -> str:
    """The archive the user named with --db (or $ARCHIVE_DB, or the default)."""
    return ctx.find_root().obj["db"]


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The output options every command that prints rows takes, in one place."""

    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        help="Output format (default: from the extension of -o FILE, else table on a"
        " terminal and csv otherwise; export: csv).",
    )
    @click.option(
        "-o",
        "--output",
        metavar="FILE",
        shell_complete=complete_files,
        help="Write to FILE instead of stdout.",
    )
    @click.option("--limit", type=Number(0), metavar="N", help="At most N rows.")
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
    @click.option(
        "--fail-on-empty",
        is_flag=True,
        help=f"Exit with status {EmptyAnswer.exit_code} when there are no rows (for scripts).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, fmt: str | None, output: str | None, limit: int | None, no_headers: bool,
                bom: bool, excel_safe: bool, force: bool, fail_on_empty: bool,
                **kwargs: Any) -> Any:  # fmt: skip
        kwargs["out"] = OutputOptions(
            format=fmt,
            output=output,
            limit=limit,
            headers=not no_headers,
            bom=bom,
            excel_safe=excel_safe,
            force=force,
            fail_on_empty=fail_on_empty,
            protected=archive_files(db_location(click.get_current_context())),
        )
        return command(*args, **kwargs)

    return wrapper


def row_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--columns and --sort, for the commands whose answer is rows of columns. Goes
    below @output_options, whose OutputOptions it completes."""

    @click.option(
        "--columns",
        metavar="A,B,...",
        help="Only these columns, in this order (comma-separated).",
    )
    @click.option(
        "--sort",
        metavar="COLUMN",
        help="Order the rows by COLUMN (-COLUMN: descending; empty values last).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, columns: str | None, sort: str | None, **kwargs: Any) -> Any:
        out: OutputOptions = kwargs["out"]
        if columns is not None:
            out.columns = [name.strip() for name in columns.split(",") if name.strip()]
            if not out.columns:
                raise UsageError("--columns needs column names, e.g. --columns title,url")
        if sort is not None:
            if not sort.strip().lstrip("-"):
                raise UsageError("--sort needs a column name, e.g. --sort -articles")
            out.sort = sort.strip()
        return command(*args, **kwargs)

    return wrapper


def check_empty(out: OutputOptions, count: int) -> None:
    """--fail-on-empty: no rows written is a failure with its own exit status."""
    if out.fail_on_empty and count == 0:
        raise EmptyAnswer("no rows (--fail-on-empty)")


def _adding_to_filters(
    command: Callable[..., Any], names: tuple[str, ...], fill: Callable[..., Filters]
) -> Callable[..., Any]:
    """`command` behind a wrapper that takes the options `names` (which the caller
    adds) and folds them into the command's `filters` argument with `fill`.

    Each filter decorator takes only the options it added and leaves every other
    argument as it came: a command may have a `--topic` of its own (cooccur) beside
    @date_filters, and stacked filter decorators each add their part.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in names}
        kwargs["filters"] = fill(kwargs.get("filters") or Filters(), **values)
        return command(*args, **kwargs)

    return wrapper


def topic_filter(command: Callable[..., Any]) -> Callable[..., Any]:
    """--topic (repeatable), into Filters.topics."""
    command = _adding_to_filters(
        command, ("topic",), lambda filters, topic: replace(filters, topics=tuple(topic))
    )
    return click.option(
        "--topic", multiple=True, metavar="TOPIC", shell_complete=complete_topics,
        help="Only articles with this topic (repeatable: any of them).",
    )(command)  # fmt: skip


def all_topics_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--all-topics, into Filters.all_topics."""
    command = _adding_to_filters(
        command,
        ("all_topics",),
        lambda filters, all_topics: replace(filters, all_topics=all_topics),
    )
    return click.option(
        "--all-topics", is_flag=True,
        help="With several --topic: only articles that have all of them (default: any).",
    )(command)  # fmt: skip


def provider_filter(command: Callable[..., Any] | None = None, *, hidden: bool = False) -> Any:
    """--provider (repeatable), into Filters.providers; `hidden` keeps it out of --help."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = _adding_to_filters(
            command,
            ("provider",),
            lambda filters, provider: replace(filters, providers=tuple(provider)),
        )
        return click.option(
            "--provider", multiple=True, metavar="DOMAIN", shell_complete=complete_providers,
            hidden=hidden, help="Only articles of this provider (repeatable: any of them).",
        )(command)  # fmt: skip

    return decorate if command is None else decorate(command)


def date_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """--since/--until on published time, into Filters.since and Filters.until."""

    def fill(filters: Filters, since: str | None, until: str | None) -> Filters:
        start = parse_date(since) if since else None
        end = parse_date(until, end=True) if until else None
        if start is not None and end is not None and start >= end:
            # An empty answer would look like "nothing was published": say why instead.
            raise UsageError(f"--since {since} is after --until {until}: no date is in that range")
        return replace(filters, since=start, until=end)

    command = _adding_to_filters(command, ("since", "until"), fill)
    for option in (
        click.option(
            "--until",
            metavar="DATE",
            help="Published on or before DATE (whole day, month or year).",
        ),
        click.option(
            "--since",
            metavar="DATE",
            help="Published on or after DATE (YYYY, YYYY-MM, YYYY-MM-DD).",
        ),
    ):
        command = option(command)
    return command


def user_sql_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that runs a user's SQL (sql, export), in one place."""
    options = [
        click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
                     help="Bind :NAME to VALUE (repeatable)."),
        click.option("--timeout", type=Number(0.001, whole=False), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="SECONDS",
                     help="Interrupt the query after this many seconds."),
        click.option("--allow-superuser", is_flag=True,
                     help="On PostgreSQL, run even when connected as a superuser."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command
