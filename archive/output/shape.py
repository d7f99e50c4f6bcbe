"""--columns and --sort: which columns an answer shows, and in which order its rows come.

Applied to the rows as written, whatever the command or the format, so that
`archive articles --columns title,url --sort -quality` means the same in a table,
CSV, JSON and Parquet.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import UsageError
from ..rows import Rows


def reshaped(result: Rows, columns: Sequence[str] | None, sort: str | None) -> Rows:
    """`result` sorted by `sort` (a column, "-column" for descending), then with only
    `columns`, in their order. An unknown name is a usage error naming the valid ones."""
    names = [str(name) for name in result.columns]
    rows: Iterator[Sequence[Any]] = iter(result.rows)
    if sort:
        descending = sort.startswith("-")
        index = _index(names, sort[1:] if descending else sort, "--sort")
        rows = iter(_sorted(rows, index, descending))
    if not columns:
        return result.replace(rows=rows)
    indexes = [_index(names, name, "--columns") for name in columns]
    chosen = [names[i] for i in indexes]
    return result.replace(
        columns=chosen,
        rows=(tuple(row[i] for i in indexes) for row in rows),
        bar_column=result.bar_column if result.bar_column in chosen else None,
        compact=None,  # the user chose the columns: show them all
    )


def _index(names: list[str], name: str, option: str) -> int:
    wanted = name.strip()
    if wanted in names:
        return names.index(wanted)
    folded = [n.casefold() for n in names]
    if wanted.casefold() in folded:
        return folded.index(wanted.casefold())
    raise UsageError(f"{option}: no column {wanted!r} (columns: {', '.join(names)})")


def _sorted(rows: Iterator[Sequence[Any]], index: int, descending: bool) -> list[Sequence[Any]]:
    """The rows ordered by one column; empty values (NULL) last either way, and rows
    with equal values in the order the command gave them (the sort is stable)."""
    present: list[Sequence[Any]] = []
    empty: list[Sequence[Any]] = []
    for row in rows:
        (empty if row[index] is None or row[index] == "" else present).append(row)
    present.sort(key=lambda row: _key(row[index]), reverse=descending)
    return present + empty


def _key(value: Any) -> tuple[int, Any]:
    """Numbers before times before text, each compared as its kind (a user's SQL may
    mix kinds in one column); lists (topics) by their text."""
    if isinstance(value, (bool, int, float, decimal.Decimal)):
        return (0, value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return (1, aware.timestamp())
    if isinstance(value, str):
        return (2, value.casefold())
    if isinstance(value, (list, tuple)):
        return (2, ", ".join(map(str, value)).casefold())
    return (3, str(value))
