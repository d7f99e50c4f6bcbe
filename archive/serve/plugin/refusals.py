"""One line in the server's log per refused request, instead of a traceback.

Datasette's own handler prints every exception a page raises with rich's
traceback and all its local variables (some 300 lines), also for an HTTP 400 that
only says a visitor's SQL was refused. A refusal (a bad query, a query past a
limit, a page that does not exist) is the visitor's mistake, not the server's: it
gets one line on stderr and the error page Datasette would show. A bug (an
exception that is not one of Datasette's messages) gets its line and a plain
traceback. `archive serve` unregisters Datasette's
handler (server.py), which would print its traceback whatever this one returns.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from datasette import hookimpl
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

from ..log import log, logged, shown

# Datasette's default handler, as its plugin manager names it.
DEFAULT_HANDLER = "datasette.handle_exception"


def _fields(exception: BaseException) -> dict[str, Any]:
    """The error page's fields, as Datasette's own handler makes them."""
    if isinstance(exception, Base400):
        message = str(exception.args[0]) if exception.args else ""
        return {"ok": False, "error": message, "status": exception.status, "title": None}
    if isinstance(exception, DatasetteError):
        message = exception.message
        if exception.message_is_html:
            message = Markup(message)
        fields = {"error": message, "status": exception.status, "title": exception.title}
        return {**exception.error_dict, "ok": False, **fields}
    return {"ok": False, "error": str(exception), "status": 500, "title": None}


def log_line(method: str, path: str, status: int, title: str | None, message: str) -> str:
    """The line the server writes for a refused request."""
    # An HTML message (Datasette's "SQL Interrupted" page) is shown by its title.
    said = title if isinstance(message, Markup) and title else message
    reason = f"{title}: {said}" if title and said != title else said
    verb = "refused" if status < 500 else "failed"  # failed: Datasette says 500
    return f"{verb} {method} {shown(path)}: {status} {shown(str(reason))}"


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: BaseException) -> Any:
    info = _fields(exception)
    status = info["status"]
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    if not logged(exception):
        log(log_line(request.method, path, status, info["title"], info["error"]))
    if not isinstance(exception, (Base400, DatasetteError)):
        # A bug, in Datasette or here: its traceback, without locals. Datasette's own
        # errors are messages for the visitor, also those it sends as HTTP 500
        # (e.g. "Cannot sort table by x").
        traceback.print_exception(exception, file=sys.stderr)
    headers: dict[str, str] = {}
    if datasette.cors:
        add_cors_headers(headers)

    async def page() -> Response:
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status, headers=headers)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        context = {**info, "urls": datasette.urls, "app_css_hash": datasette.app_css_hash()}
        html = await template.render_async({**context, "menu_links": lambda: []})
        return Response.html(html, status=status, headers=headers)

    return page
