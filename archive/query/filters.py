"""What a user can ask the query commands for: filters, dates, periods.

Apart from queries.py so that the command line can build them without loading
SQLAlchemy.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError

SEARCH_LIMIT = 100
PERIODS = ("day", "week", "month", "year")


@dataclass
class Filters:
    """Filters shared by the query commands. Dates bound published_at (UTC)."""

    topics: Sequence[str] = ()
    providers: Sequence[str] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    all_topics: bool = False  # several topics: articles with all of them (else any)

    def needs_every_topic(self) -> bool:
        """Several topics, all of which an article must have (--all-topics)."""
        return self.all_topics and len({t.strip().casefold() for t in self.topics}) > 1


def parse_date(value: str, *, end: bool = False) -> dt.datetime:
    """`2020`, `2020-08`, `2020-08-17` or a full ISO timestamp, as a UTC datetime.

    With `end`, a partial date means the end of that year, month or day (the
    first instant after it), so `--until 2020-08` includes all of August.
    """
    raw = value.strip()
    try:
        if len(raw) == 4 and raw.isdigit():
            start = dt.datetime(int(raw), 1, 1)
            stop = dt.datetime(int(raw) + 1, 1, 1)
        elif len(raw) == 7 and raw[4] == "-":
            year, month = int(raw[:4]), int(raw[5:])
            start = dt.datetime(year, month, 1)
            stop = start + dt.timedelta(days=calendar.monthrange(year, month)[1])
        elif len(raw) == 10:
            start = dt.datetime.fromisoformat(raw)
            stop = start + dt.timedelta(days=1)
        else:
            # Timestamps are stored to the second: "on or before" that second.
            start = dt.datetime.fromisoformat(raw.replace("z", "Z")).replace(microsecond=0)
            stop = start + dt.timedelta(seconds=1)
    except ValueError:
        raise UsageError(
            f"not a date: {value!r} (use YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"
        ) from None
    stamp = stop if end else start
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc)
