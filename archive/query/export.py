"""Export a table, a view or a query's rows, under archive sql's read-only rules."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..errors import ArchiveError, UsageError
from ..output.formats import write
from ..rows import OutputOptions
from ..store.location import archive_files
from .readonly_sql import ReadOnlyQuery, open_query
from .sql_text import checked_sql


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
    if sql is not None:
        checked_sql(sql)
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
        # CSV and TSV write a topics list as JSON text: SQLite's text, respaced, is
        # that text, without parsing it into lists first. Not under --sort, which
        # orders the lists themselves.
        as_text = isinstance(query, ReadOnlyQuery) and not options.sort
        if as_text and options.resolved_format(sys.stdout) in ("csv", "tsv"):
            return write(query.run(sql, params, topics_as_text=True), options, offload=True)
        return write(query.run(sql, params), options, offload=True)
    finally:
        query.close()
