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
from ..messages import shown
from ..record_format import TIMESTAMP_RANGE

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
    first instant after it), so `--until 2020-08` includes all of August. A date
    past the archive's range (record_format.TIMESTAMP_RANGE: no stored date is
    outside it) means that end of the range, so `--until 9999-12-31` reads "ever".
    """
    raw = value.strip()
    try:
        start, length = _start_and_length(raw)
    except ValueError:
        raise UsageError(
            f"not a date: {shown(value)} (use YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"
        ) from None
    first, after_last = TIMESTAMP_RANGE
    try:
        stamp = start + length if end else start
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        else:
            stamp = stamp.astimezone(dt.timezone.utc)
    except OverflowError:  # before year 1 or after 9999, in UTC
        stamp = after_last if start.year > 1 else first
    return min(max(stamp, first), after_last)


def _start_and_length(raw: str) -> tuple[dt.datetime, dt.timedelta]:
    """The first instant `raw` names and how long the year, month, day or second is."""
    if len(raw) == 4 and raw.isdigit():
        year = int(raw)
        return dt.datetime(year, 1, 1), dt.timedelta(days=366 if calendar.isleap(year) else 365)
    if len(raw) == 7 and raw[4] == "-":
        year, month = int(raw[:4]), int(raw[5:])
        start = dt.datetime(year, month, 1)
        return start, dt.timedelta(days=calendar.monthrange(year, month)[1])
    if len(raw) == 10:
        return dt.datetime.fromisoformat(raw), dt.timedelta(days=1)
    # Timestamps are stored to the second: "on or before" that second.
    start = dt.datetime.fromisoformat(raw.replace("z", "Z")).replace(microsecond=0)
    return start, dt.timedelta(seconds=1)
