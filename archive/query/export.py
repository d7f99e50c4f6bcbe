"""Export a table, a view or a query's rows, under archive sql's read-only rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ArchiveError, UsageError
from ..output.formats import write
from ..rows import OutputOptions
from ..store.location import archive_files
from .readonly_sql import open_query


def export(
    location: str,
    name: str | None,
    sql: str | None,
    options: OutputOptions,
    *,
    timeout: float,
    allow_superuser: bool = False,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Write the rows of table/view `name`, or of `sql` with its named `params`; return
    how many were written."""
    if (name is None) == (sql is None):
        raise UsageError("give a table or view name, or --query SQL (not both)")
    if not options.protected:  # a library caller's options: never write over the archive
        options = options.replace(protected=archive_files(location))
    query = open_query(location, timeout=timeout, allow_superuser=allow_superuser)
    try:
        if name is not None:
            names = query.names()
            if name not in names:
                raise ArchiveError(
                    f"no table or view named {name!r} (there are: {', '.join(names)})"
                )
            sql = query.select_all(name)
        assert sql is not None
        return write(query.run(sql, params), options, offload=True)
    finally:
        query.close()
