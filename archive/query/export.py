"""Export a table, a view or a query's rows, under archive sql's read-only rules."""

from __future__ import annotations

from ..errors import ArchiveError, UsageError
from ..output.formats import write
from ..rows import OutputOptions
from .readonly_sql import ReadOnlyQuery


def exportable_names(query: ReadOnlyQuery) -> list[str]:
    rows = query.run(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'article_fts%' ORDER BY type, name"
    )
    return [name for (name,) in rows.rows]


def export(
    location: str, name: str | None, sql: str | None, options: OutputOptions, *, timeout: float
) -> int:
    """Write the rows of table/view `name`, or of `sql`; return how many were written."""
    if (name is None) == (sql is None):
        raise UsageError("give a table or view name, or --query SQL (not both)")
    query = ReadOnlyQuery(location, timeout=timeout)
    try:
        if name is not None:
            names = exportable_names(query)
            if name not in names:
                raise ArchiveError(
                    f"no table or view named {name!r} (there are: {', '.join(names)})"
                )
            sql = f'SELECT * FROM "{name}"'
        assert sql is not None
        return write(query.run(sql), options, offload=True)
    finally:
        query.close()
