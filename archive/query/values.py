"""Values as the query commands give them, whichever engine stored them.

As they came out when the questions were SQLAlchemy queries: timestamps as aware
UTC datetimes, booleans as bool, JSON columns parsed. SQLite hands back ISO text,
0/1 and JSON text; psycopg hands back datetimes, bools and parsed JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# How SQLite holds an instant (models.ISO_UTC_FORMAT): to the second, UTC, a Z.
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def instant(value: Any) -> Any:
    """A stored timestamp as an aware UTC datetime (SQLite holds ISO text ending in Z;
    psycopg gives a datetime in the session's zone, UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # Python 3.10 cannot parse the Z
            return dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return value  # written by another tool in some other form: shown as it is
    if value.utcoffset() is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def stored(stamp: dt.datetime) -> str:
    """A UTC datetime as SQLite stores timestamps (for raw SQL comparisons)."""
    return stamp.astimezone(dt.timezone.utc).strftime(ISO_UTC_FORMAT)


def _boolean(value: Any) -> Any:
    return None if value is None else bool(value)


def _json(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# Result columns by name: what kind of value each holds, wherever it appears.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "published_at": instant,
    "first_published": instant,
    "last_published": instant,
    "imported_at": instant,
    "is_stub": _boolean,
    "published": _boolean,
    "extra": _json,
    "topics": _json,  # a JSON array of names (SQLite's json_group_array gives its text)
}


def converted(columns: Sequence[str], rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows with each column's values as CONVERTERS makes them."""
    converters = [(i, CONVERTERS[c]) for i, c in enumerate(columns) if c in CONVERTERS]
    if not converters:
        yield from rows
        return
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        yield tuple(values)
