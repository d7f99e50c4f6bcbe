"""The Datasette plugin: the archive's identity rules as SQL functions, the
timeline chart page, and one log line per refused request (refusals.py).

Registered as the `archive` entry point in Datasette's plugin group, so a plain
`datasette archive.db -m metadata.json` in the same environment has the functions
the canned queries call and the chart page too; `archive serve` registers it
itself when the entry point was not loaded. It is a package (not a module) so that
Datasette finds its templates/ folder beside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from ... import identity
from ...query.queries import close_names
from ..chart import bar_chart, grouped_bar_chart
from ..plugin_paths import TIMELINE_PATH
from ..queries import TIMELINE_ALL, TIMELINE_FOR_TOPIC
from .refusals import handle_exception  # noqa: F401  (a hook: pm finds it here)


def _null_safe(function: Callable[..., str]) -> Callable[..., str | None]:
    """NULL for a NULL name, and NULL (no match) for a value the rule cannot read,
    such as a malformed URL: a canned query's form must not fail on what a user
    types. Later arguments may be NULL (provider_key(name, NULL): no domain)."""

    def call(first: Any, *rest: Any) -> str | None:
        if first is None:
            return None
        try:
            return function(str(first), *(None if a is None else str(a) for a in rest))
        except ValueError:
            return None

    return call


# name -> (number of arguments, function): the keys the importer stores.
SQL_FUNCTIONS: dict[str, tuple[int, Callable[..., str | None]]] = {
    "topic_key": (1, _null_safe(identity.topic_key)),
    "domain_key": (1, _null_safe(identity.domain_key)),
    "provider_key": (2, _null_safe(identity.provider_key)),
    "url_key": (1, _null_safe(identity.url_key)),
}


def register_functions(conn: sqlite3.Connection) -> None:
    """Make the identity functions callable in SQL on `conn`."""
    for name, (arity, function) in SQL_FUNCTIONS.items():
        conn.create_function(name, arity, function, deterministic=True)


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    register_functions(conn)


async def timeline_page(datasette: Any, request: Any) -> Any:
    """Articles per month as a chart and a table: of the whole archive without
    ?topic=, of one topic, or of several compared (?topic=AI&topic=Privacy), each
    with its share of all articles that month. A topic the archive does not know
    gets the nearest names it has, as the CLI's note does."""
    name = request.url_vars["database"]
    try:
        database = datasette.get_database(name)
    except KeyError:
        raise NotFound(f"Database not found: {name}") from None
    await datasette.ensure_permissions(request.actor, [("view-database", name), "view-instance"])
    wanted = [t.strip() for t in request.args.getlist("topic") if t.strip()]
    known = {r["key"]: r["name"] for r in (await database.execute(TOPIC_NAMES)).rows}
    topics = list(dict.fromkeys(known[identity.topic_key(t)] for t in wanted
                                if identity.topic_key(t) in known))  # fmt: skip
    unknown = [(t, close_names(identity.topic_key(t), known)) for t in wanted
               if identity.topic_key(t) not in known]  # fmt: skip
    everything = [(r["month"], r["articles"]) for r in (await database.execute(TIMELINE_ALL)).rows]
    series = [(topic, await _monthly(database, topic)) for topic in topics]
    view = timeline_view(everything, series, asked=bool(wanted))
    html = await datasette.render_template(
        "archive_timeline.html",
        {"database": name, "topics": topics, "unknown": unknown, "asked": wanted, **view},
        request=request,
    )
    return Response.html(html)


TOPIC_NAMES = "SELECT key, name FROM topic"


async def _monthly(database: Any, topic: str) -> dict[str, int]:
    rows = (await database.execute(TIMELINE_FOR_TOPIC, {"topic": topic})).rows
    return {row["month"]: row["articles"] for row in rows}


def timeline_view(
    everything: list[tuple[str, int]], series: list[tuple[str, dict[str, int]]], *, asked: bool
) -> dict[str, Any]:
    """The chart, the table's columns and rows, and the total, for the page.

    Months run from the first to the last month any series has articles in (or the
    whole archive's, without series); a month without any article has no share.
    """
    if not series:
        if asked:  # only unknown topics: nothing to draw
            return {"chart": "", "columns": [], "rows": [], "total": 0}
        rows = [[month, count] for month, count in everything]
        chart = bar_chart(everything, title="Articles per month: all articles")
        return {"chart": chart if rows else "", "columns": ["month", "articles"], "rows": rows,
                "total": sum(count for _, count in everything)}  # fmt: skip
    months = [m for m, _ in everything]
    used = [m for m, _ in everything if any(counts.get(m) for _, counts in series)]
    if not used:
        return {"chart": "", "columns": [], "rows": [], "total": 0}
    months = months[months.index(used[0]) : months.index(used[-1]) + 1]
    totals = dict(everything)
    columns = ["month", "all_articles"]
    for topic, _ in series:
        columns += [topic, f"{topic} share"]
    rows = []
    for month in months:
        row: list[Any] = [month, totals.get(month, 0)]
        for _, counts in series:
            count = counts.get(month, 0)
            row += [count, round(count / totals[month], 4) if totals.get(month) else None]
        rows.append(row)
    values = [(topic, [counts.get(m, 0) for m in months]) for topic, counts in series]
    if len(series) == 1:
        chart = bar_chart(list(zip(months, values[0][1], strict=True)),
                          title=f"Articles per month: {series[0][0]}")  # fmt: skip
    else:
        chart = grouped_bar_chart(months, values, title="Articles per month: " +
                                  ", ".join(topic for topic, _ in series))  # fmt: skip
    total = sum(sum(counts.values()) for _, counts in series)
    return {"chart": chart, "columns": columns, "rows": rows, "total": total}


@hookimpl
def register_routes() -> list[tuple[str, Callable[..., Any]]]:
    return [(rf"^/(?P<database>[^/]+)/{TIMELINE_PATH}$", timeline_page)]
