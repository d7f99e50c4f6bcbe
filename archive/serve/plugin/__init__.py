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
from ..chart import bar_chart
from ..plugin_paths import TIMELINE_PATH
from ..queries import TIMELINE_FOR_TOPIC
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
    """Articles per month for ?topic=, as a bar chart and a table."""
    name = request.url_vars["database"]
    try:
        database = datasette.get_database(name)
    except KeyError:
        raise NotFound(f"Database not found: {name}") from None
    await datasette.ensure_permissions(request.actor, [("view-database", name), "view-instance"])
    topic = request.args.get("topic", "").strip()
    rows: list[Any] = []
    if topic:
        rows = list((await database.execute(TIMELINE_FOR_TOPIC, {"topic": topic})).rows)
        # Shown as first spelled, as the other pages show topics.
        named = await database.execute(
            "SELECT name FROM topic WHERE key = topic_key(:topic)", {"topic": topic}
        )
        topic = named.first()["name"] if named.first() else topic
    points = [(row["month"], row["articles"]) for row in rows]
    chart = bar_chart(points, title=f"Articles per month: {topic}") if rows else ""
    html = await datasette.render_template(
        "archive_timeline.html",
        {
            "database": name,
            "topic": topic,
            "rows": rows,
            "chart": chart,
            "total": sum(value for _, value in points),
        },
        request=request,
    )
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Callable[..., Any]]]:
    return [(rf"^/(?P<database>[^/]+)/{TIMELINE_PATH}$", timeline_page)]
