"""`archive timeline`: articles per period, empty periods included, with each
period's share of all articles published in it; `--compare` puts several series
side by side.

The SQL counts articles per day (`*_days_sql`, which serve/queries.py also wraps
for the web's timeline); the days are summed into periods here, in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .. import identity
from ..errors import UsageError
from ..rows import Rows
from .conditions import (
    date_conditions,
    link_conditions,
    own_articles,
    provider_condition,
    topic_article_ids,
    topic_links,
)
from .filters import PERIODS, Filters
from .reader import Reader
from .sql import Sql, where

# More periods than this in one timeline is a mistake (`--by day --since 0001`):
# refused with a hint rather than printed for minutes. A day per row, it is 273 years.
MAX_PERIODS = 100_000


# Periods are numbered (days and weeks from 0001-01-01, a Monday; months and years
# from year 0), so that stepping from one to the next is adding 1: it cannot loop,
# and it cannot overflow a date, since only periods holding a date are labelled.
def period(day: dt.date, by: str) -> int:
    if by == "day":
        return day.toordinal()
    if by == "week":
        return (day.toordinal() - 1) // 7  # ISO weeks start on Monday, as 0001-01-01
    if by == "month":
        return day.year * 12 + day.month - 1
    return day.year


def _label(number: int, by: str) -> str:
    if by == "day":
        return dt.date.fromordinal(number).isoformat()
    if by == "week":
        year, week, _ = dt.date.fromordinal(number * 7 + 1).isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{number // 12:04d}-{number % 12 + 1:02d}"
    return f"{number:04d}"


# A stored timestamp's day; serve/queries.py counts by month with the first seven
# characters of SQLite's text instead (date() costs 4x more per row).
DAY = "date({})"


def _days_sql(table: str, conditions: list[str], source: str | None = None, by: str = DAY) -> str:
    """(day, articles) of the rows of `table` (in `source`) that have a date; `by`
    writes the day (or another period) of a published_at."""
    day = by.format(f"{table}.published_at")
    conditions = [f"{table}.published_at IS NOT NULL", *conditions]
    return (
        f"SELECT {day} AS day, count(*) AS articles FROM {source or table}{where(conditions)}"
        f" GROUP BY {day}"
    )


def selected_days_sql(q: Sql, filters: Filters, by: str = DAY) -> str:
    """(day, articles) of the own articles the filters select."""
    own = own_articles(q)
    if filters.topics and (len(filters.topics) > 1 or filters.needs_every_topic()):
        # An article with two of the topics counts once.
        conditions = [
            f"article.id IN ({topic_article_ids(q, filters)})",
            own,
            *date_conditions(q, filters),
            *provider_condition(q, filters),
        ]
        return _days_sql("article", conditions, by=by)
    if filters.topics:
        joined, topic_condition = topic_links(q, filters.topics)
        conditions = [topic_condition, *link_conditions(q, filters)]
        return _days_sql("article_topic", conditions, joined, by)
    conditions = [own, *date_conditions(q, filters), *provider_condition(q, filters)]
    return _days_sql("article", conditions, by=by)


def all_days_sql(q: Sql, filters: Filters, by: str = DAY) -> str:
    """(day, articles) of every own article within --since/--until: the share's
    denominator."""
    own = own_articles(q)
    return _days_sql("article", [own, *date_conditions(q, filters)], by=by)


def day_counts(q: Sql, sql: str) -> Counter:
    """A (day, count) statement's rows as {date: count}."""
    counts: Counter = Counter()
    for value, count in q.all(sql):
        counts[dt.date.fromisoformat(str(value)[:10])] += count
    return counts


def _selected(conn: Reader, filters: Filters) -> Counter:
    q = Sql(conn)
    return day_counts(q, selected_days_sql(q, filters))


def _everything(conn: Reader, filters: Filters) -> Counter:
    q = Sql(conn)
    return day_counts(q, all_days_sql(q, filters))


def check_period(by: str) -> None:
    if by not in PERIODS:
        raise UsageError(f"--by must be one of {', '.join(PERIODS)}")


def timeline(conn: Reader, filters: Filters, *, by: str = "month", compare: bool = False) -> Rows:
    """Articles per period, empty periods included, with each period's share of all
    articles published in it (attention over time). A period without any article has
    no share (NULL, not 0). Without a topic or provider the selection is everything:
    no share then. With `compare`, one count and share column per topic (or, without
    topics, per provider): compare_timeline."""
    check_period(by)
    if compare:
        return compare_timeline(conn, filters, by=by)
    selected = _selected(conn, filters)
    if not filters.topics and not filters.providers:
        rows = ((label, counts[0]) for label, _total, counts in
                period_counts([selected], Counter(), by, filters))  # fmt: skip
        return Rows(["period", "articles"], rows, bar_column="articles")
    everything = _everything(conn, filters)
    return Rows(
        ["period", "articles", "all_articles", "share"],
        (
            (label, counts[0], total, share(counts[0], total))
            for label, total, counts in period_counts([selected], everything, by, filters)
        ),
        bar_column="articles",
    )


def compare_timeline(conn: Reader, filters: Filters, *, by: str = "month") -> Rows:
    """One row per period: all articles published in it, then each series' articles
    and share of them. The series are the topics (each also filtered by the
    providers, if any), else the providers."""
    check_period(by)
    series = _comparison_series(conn, filters)
    if not series:
        raise UsageError(
            "--compare needs the series to compare: --topic A --topic B (or --provider)"
        )
    counts = [_selected(conn, chosen) for _name, chosen in series]
    everything = _everything(conn, filters)
    columns = ["period", "all_articles"]
    for name, _chosen in series:
        columns += [name, f"{name} share"]
    # The periods are checked (MAX_PERIODS) here, before the header is written.
    return Rows(columns, _compared_rows(period_counts(counts, everything, by, filters)))


def _comparison_series(conn: Reader, filters: Filters) -> list[tuple[str, Filters]]:
    """(column name, filters) for each series; topics named as the archive spells them."""
    if filters.topics:
        known = {key: name for key, name in Sql(conn).all("SELECT key, name FROM topic")}
        topics = dict.fromkeys(known.get(identity.topic_key(t), t.strip()) for t in filters.topics)
        return [(name, replace(filters, topics=(name,), all_topics=False)) for name in topics]
    providers = dict.fromkeys(p.strip() for p in filters.providers)
    return [(name, replace(filters, providers=(name,))) for name in providers]


def _compared_rows(periods: Iterator[tuple[str, int, list[int]]]) -> Iterator[tuple]:
    for label, total, per_series in periods:
        row: list[Any] = [label, total]
        for count in per_series:
            row += [count, share(count, total)]
        yield tuple(row)


def share(count: int, total: int) -> float | None:
    """count / total to four places; None for a period without articles (0/0)."""
    return round(count / total, 4) if total else None


def period_counts(
    selected: list[Counter], everything: Counter, by: str, filters: Filters
) -> Iterator[tuple[str, int, list[int]]]:
    """(label, all articles, each selection's articles) for every period from the
    first to the last selected article, or across --since and --until when given,
    so that quiet periods show as zeros. Checked here, before the first row is
    written: more than MAX_PERIODS is refused."""
    per_selected = [_per_period(days, by) for days in selected]
    per_all = _per_period(everything, by)
    bounds = [start for counts in per_selected for start in counts]
    if not bounds:
        return iter(())
    if filters.since is not None:
        bounds.append(period(filters.since.date(), by))
    if filters.until is not None:
        bounds.append(period((filters.until - dt.timedelta(microseconds=1)).date(), by))
    first, last = min(bounds), max(bounds)
    if last - first + 1 > MAX_PERIODS:
        raise UsageError(
            f"--by {by} from {_label(first, by)} to {_label(last, by)} is"
            f" {last - first + 1:,} periods, more than {MAX_PERIODS:,}: narrow it with"
            " --since/--until or count by a longer period with --by"
        )
    return (
        (_label(number, by), per_all[number], [counts[number] for counts in per_selected])
        for number in range(first, last + 1)
    )


def _per_period(days: Counter, by: str) -> Counter:
    periods: Counter = Counter()
    for day, count in days.items():
        periods[period(day, by)] += count
    return periods
