"""The questions users ask of an archive, as functions returning rows.

Plain SQL run through a Reader (reader.py: sqlite3, or psycopg for PostgreSQL), so
that a query command starts without loading SQLAlchemy. Where the engines differ
(full-text search, aggregating topic names, booleans, bound timestamps) the SQL
takes a small fragment per dialect (_Sql). Every filter value is a bound
parameter, never text pasted into SQL. Each function returns `rows.Rows` (column
names and a row stream), which the CLI formats; a library user can iterate the
rows directly:

    with open_reader("news.db") as reader:
        for row in queries.providers(reader, Filters(topics=["AI"])).rows: ...

Values come out as they did when these were SQLAlchemy queries: timestamps as
aware UTC datetimes, booleans as bool, JSON columns parsed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from .. import identity
from ..errors import ArchiveError, UsageError
from ..record_format import ARTICLE_FIELDS
from ..rows import Rows
from . import search_query
from .filters import PERIODS, SEARCH_LIMIT, Filters, parse_date
from .reader import Reader, open_reader

# Every table, in the order `archive stats` lists them. A copy of models.TABLE_NAMES,
# which would load SQLModel; tests/test_queries.py checks that the two agree.
TABLE_NAMES = (
    "article", "provider", "topic", "image", "article_topic", "article_image",
    "related_link", "article_url", "source_file", "collection",
    "story", "article_story", "story_band",
)  # fmt: skip
# The columns of `articles` on a terminal too narrow for them all: one line each.
ARTICLES_COMPACT = ("published_at", "domain", "title")
# How SQLite holds an instant (models.ISO_UTC_FORMAT): to the second, UTC, a Z.
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --- values, as the SQLAlchemy column types gave them ------------------------------


def _instant(value: Any) -> Any:
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
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "published_at": _instant,
    "first_published": _instant,
    "last_published": _instant,
    "imported_at": _instant,
    "is_stub": _boolean,
    "published": _boolean,
    "extra": _json,
    "topics": _json,  # a JSON array of names (SQLite's json_group_array gives its text)
}


def _converted(columns: Sequence[str], rows: Iterator[tuple]) -> Iterator[tuple]:
    converters = [(i, _CONVERTERS[c]) for i, c in enumerate(columns) if c in _CONVERTERS]
    if not converters:
        yield from rows
        return
    for row in rows:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        yield tuple(values)


class _Sql:
    """One statement's parameters and the fragments that differ by dialect."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.postgres = reader.dialect == "postgresql"
        self.params: dict[str, Any] = {}
        # Booleans: the forms SQLAlchemy wrote, which the indexes were tuned for.
        self.false = "false" if self.postgres else "0"
        self.true = "true" if self.postgres else "1"

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def bind_all(self, values: Sequence[Any]) -> str:
        return "(" + ", ".join(self.bind(value) for value in values) + ")"

    def bind_instant(self, stamp: dt.datetime) -> str:
        """A UTC instant as each engine compares it: SQLite's ISO text, or a timestamp."""
        return self.bind(stamp if self.postgres else _stored(stamp))

    def rows(self, sql: str) -> Rows:
        columns, rows = self.reader.execute(sql, self.params, stream=True)
        return Rows(columns, _converted(columns, rows))

    def all(self, sql: str) -> list[tuple]:
        """Every row, converted, read at once (for short answers)."""
        columns, rows = self.reader.execute(sql, self.params)
        return list(_converted(columns, rows))

    def scalar(self, sql: str) -> Any:
        for row in self.reader.execute(sql, self.params)[1]:
            return row[0]
        return None


def _stored(stamp: dt.datetime) -> str:
    """A UTC datetime as SQLite stores timestamps (for raw SQL comparisons)."""
    return stamp.astimezone(dt.timezone.utc).strftime(ISO_UTC_FORMAT)


def _provider_keys(values: Sequence[str]) -> list[str]:
    keys = []
    for value in values:
        keys.append(identity.domain_key(value))
        keys.append(identity.provider_key(value, None))  # a provider known only by name
    return keys


def _topic_links(q: _Sql, topics: Sequence[str], alias: str | None = None) -> tuple[str, str]:
    """FROM and WHERE for the links of some topics, written as a join from `topic`.

    As a join, SQLite looks the topic up first and then reads only its links from
    the (topic_id, ...) index; with `topic_id IN (SELECT ...)` it sometimes scans
    the whole provider-first index instead (100 ms instead of 0.5 ms for a rare topic
    at a million articles).
    """
    keys = [identity.topic_key(t) for t in topics]
    links = alias or "article_topic"
    named = f"article_topic AS {alias}" if alias else "article_topic"
    joined = f"{named} JOIN topic ON topic.id = {links}.topic_id"
    return joined, f"topic.key IN {q.bind_all(keys)}"


def _articles_with_topics(q: _Sql, topics: Sequence[str]) -> str:
    joined, condition = _topic_links(q, topics)
    return f"SELECT article_topic.article_id FROM {joined} WHERE {condition}"


def _topic_article_ids(q: _Sql, filters: Filters) -> str:
    """The ids of the articles with any of the filter's topics, or with every one of
    them (--all-topics): an article's link to a topic is unique, so an article with
    as many links among them as there are topics has them all."""
    if not filters.needs_every_topic():
        return _articles_with_topics(q, filters.topics)
    keys = list(dict.fromkeys(identity.topic_key(t) for t in filters.topics))
    joined, condition = _topic_links(q, keys)
    return (
        f"SELECT article_topic.article_id FROM {joined} WHERE {condition}"
        f" GROUP BY article_topic.article_id HAVING count(*) = {q.bind(len(keys))}"
    )


def _providers_with_keys(q: _Sql, providers: Sequence[str]) -> str:
    keys = q.bind_all(_provider_keys(providers))
    return f"SELECT provider.id FROM provider WHERE provider.key IN {keys}"


def _date_conditions(q: _Sql, filters: Filters, table: str = "article") -> list[str]:
    conditions = []
    if filters.since is not None:
        conditions.append(f"{table}.published_at >= {q.bind_instant(filters.since)}")
    if filters.until is not None:
        conditions.append(f"{table}.published_at < {q.bind_instant(filters.until)}")
    return conditions


def _provider_condition(q: _Sql, filters: Filters) -> list[str]:
    if not filters.providers:
        return []
    return [f"article.provider_id IN ({_providers_with_keys(q, filters.providers)})"]


def _where(conditions: Sequence[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


# --- providers, topics, co-occurrence --------------------------------------------


def _link_conditions(q: _Sql, filters: Filters, links: str = "article_topic") -> list[str]:
    """Filters on article_topic's copies of the article's provider and time."""
    conditions = _date_conditions(q, filters, links)
    if filters.providers:
        conditions.append(f"{links}.provider_id IN ({_providers_with_keys(q, filters.providers)})")
    return conditions


def _by_provider(q: _Sql, counts: str) -> Rows:
    """Provider rows for a subquery of (provider_id, articles, first, last)."""
    return q.rows(
        "SELECT provider.name, provider.domain, c.articles, c.first_published,"
        " c.last_published,"
        " CAST(c.articles AS DOUBLE PRECISION) / sum(c.articles) OVER () AS share"
        f" FROM ({counts}) AS c JOIN provider ON provider.id = c.provider_id"
        # NULLS FIRST: SQLite's order for a provider known only by its domain, made
        # explicit so PostgreSQL (which sorts NULL last) gives the same answer.
        " ORDER BY c.articles DESC, provider.name ASC NULLS FIRST"
    )


def providers(conn: Reader, filters: Filters, *, include_related: bool = False) -> Rows:
    """Providers by number of articles (own records) matching the filters.

    With `include_related`, articles that those articles link to as related count
    too (they may be known only from the related entries).
    """
    q = _Sql(conn)
    if filters.topics and not include_related and not filters.needs_every_topic():
        # The hot question: an index-only scan of the topic's links.
        count = (
            "count(DISTINCT article_topic.article_id)" if len(filters.topics) > 1 else "count(*)"
        )
        joined, topic_condition = _topic_links(q, filters.topics)
        conditions = [topic_condition, *_link_conditions(q, filters)]
        counts = (
            f"SELECT article_topic.provider_id AS provider_id, {count} AS articles,"
            " min(article_topic.published_at) AS first_published,"
            " max(article_topic.published_at) AS last_published"
            f" FROM {joined}{_where(conditions)} GROUP BY article_topic.provider_id"
        )
        return _by_provider(q, counts)
    source = "article"
    own = f"article.is_stub IS {q.false} AND article.removed_at IS NULL"
    if filters.topics:
        # Only own records have topics, so the topic's links are own articles.
        base = _topic_article_ids(q, filters)
    else:
        base = f"SELECT article.id FROM article WHERE {own}"
    conditions: list[str] = []
    if include_related:
        if filters.topics:
            # One list of ids, made distinct by GROUP BY (a sort) rather than by
            # UNION's B-tree, then joined to article in id order: 0.66 s instead of
            # 0.95 s for the most popular topic at a million articles.
            linked = (
                "SELECT related_link.related_article_id AS related_article_id FROM related_link"
                f" WHERE related_link.article_id IN ({_topic_article_ids(q, filters)})"
            )
            ids = f"SELECT ids.article_id AS article_id FROM ({base} UNION ALL {linked}) AS ids"
            source = (
                f"article JOIN ({ids} GROUP BY ids.article_id) AS unique_ids"
                " ON article.id = unique_ids.article_id"
            )
        else:
            linked = (
                "SELECT related_link.related_article_id FROM related_link"
                f" WHERE related_link.article_id IN ({base})"
            )
            conditions.append(f"({own} OR article.id IN ({linked}))")
    elif filters.topics:
        conditions.append(f"article.id IN ({base})")
    else:
        conditions.append(own)
    conditions += _date_conditions(q, filters) + _provider_condition(q, filters)
    counts = (
        "SELECT article.provider_id AS provider_id, count(*) AS articles,"
        " min(article.published_at) AS first_published,"
        " max(article.published_at) AS last_published"
        f" FROM {source}{_where(conditions)} GROUP BY article.provider_id"
    )
    return _by_provider(q, counts)


def topics(conn: Reader, filters: Filters) -> Rows:
    """Topics by number of articles, optionally of some providers only."""
    q = _Sql(conn)
    source = "article_topic"
    conditions = []
    if filters.topics:
        source, topic_condition = _topic_links(q, filters.topics)
        conditions.append(topic_condition)
    conditions += _link_conditions(q, filters)
    counts = (
        "SELECT article_topic.topic_id AS topic_id, count(*) AS articles,"
        " min(article_topic.published_at) AS first_published,"
        " max(article_topic.published_at) AS last_published"
        f" FROM {source}{_where(conditions)} GROUP BY article_topic.topic_id"
    )
    return q.rows(
        "SELECT topic.name, c.articles, c.first_published, c.last_published"
        f" FROM ({counts}) AS c JOIN topic ON topic.id = c.topic_id"
        " ORDER BY c.articles DESC, topic.name"
    )


def cooccur(conn: Reader, topic: str, filters: Filters) -> Rows:
    """Topics that appear on the same articles as `topic`, with counts."""
    q = _Sql(conn)
    joined, topic_condition = _topic_links(q, [topic])
    conditions = [topic_condition, *_link_conditions(q, filters)]
    total = q.scalar(f"SELECT count(*) FROM {joined}{_where(conditions)}") or 0
    q = _Sql(conn)
    mine_joined, mine_condition = _topic_links(q, [topic], "mine")
    conditions = [
        mine_condition,
        "other.topic_id != mine.topic_id",
        *_link_conditions(q, filters, "mine"),
    ]
    counts = (
        # (article_id, topic_id) is the primary key: count(*) counts distinct articles.
        "SELECT other.topic_id AS topic_id, count(*) AS articles"
        f" FROM {mine_joined}"
        " JOIN article_topic AS other ON other.article_id = mine.article_id"
        f"{_where(conditions)} GROUP BY other.topic_id"
    )
    found = q.rows(
        "SELECT topic.name, c.articles"
        f" FROM ({counts}) AS c JOIN topic ON topic.id = c.topic_id"
        " ORDER BY c.articles DESC, topic.name"
    )
    # The share in Python: the same IEEE division SQLite's articles * 1.0 / total made.
    return Rows(
        [*found.columns, "share"],
        ((name, articles, articles * 1.0 / (total or 1)) for name, articles in found.rows),
    )


# --- articles and search ---------------------------------------------------------


def _topics_column(q: _Sql) -> str:
    """An article's topics in record order, a JSON array (as article_summary.topics),
    as a correlated subquery."""
    links = (
        "FROM article_topic JOIN topic ON topic.id = article_topic.topic_id"
        " WHERE article_topic.article_id = article.id"
    )
    if q.postgres:
        return (
            "(SELECT coalesce(json_agg(topic.name ORDER BY article_topic.position), '[]'::json)"
            f" {links})"
        )
    return (
        "(SELECT json_group_array(t.name)"
        f" FROM (SELECT topic.name AS name {links} ORDER BY article_topic.position) AS t)"
    )


def articles(
    conn: Reader,
    filters: Filters,
    *,
    type_: str | None = None,
    min_quality: int | None = None,
    search: str | None = None,
    include_stubs: bool = False,
    include_removed: bool = False,
) -> Rows:
    q = _Sql(conn)
    parsed = search_query.parse(search) if search else None
    if parsed:  # its topic:, provider:, since:, until: and type: narrow the filters
        filters, type_ = parsed.filters(filters), parsed.type_ or type_
    conditions = _date_conditions(q, filters) + _provider_condition(q, filters)
    if not include_stubs:
        conditions.append(f"article.is_stub IS {q.false}")
    if not include_removed:
        conditions.append("article.removed_at IS NULL")
    if filters.topics:
        conditions.append(f"article.id IN ({_topic_article_ids(q, filters)})")
    if type_:
        conditions.append(f"lower(article.type) = {q.bind(type_.lower())}")
    if min_quality is not None:
        conditions.append(f"article.quality >= {q.bind(min_quality)}")
    if parsed:
        conditions.append(search_query.condition(parsed, q.postgres, q.bind, "article"))
    sql = (
        "SELECT article.published_at, article.title, provider.name AS provider,"
        f" provider.domain, {_topics_column(q)} AS topics, article.type, article.quality,"
        " article.url, article.is_stub"
        " FROM article LEFT OUTER JOIN provider ON provider.id = article.provider_id"
        f"{_where(conditions)}"
        # NULLS LAST: undated articles after the dated ones, as SQLite sorts them.
        " ORDER BY article.published_at DESC NULLS LAST, article.id"
    )
    return _checked(q, sql).replace(compact=ARTICLES_COMPACT)


def _any_removed(conn: Reader) -> bool:
    """Whether an article was removed (its file deleted in git): an index lookup, so
    that a search in an archive without removals keeps its index-only fast path."""
    _columns, rows = conn.execute("SELECT 1 FROM article WHERE removed_at IS NOT NULL LIMIT 1")
    return any(True for _ in rows)


def _checked(q: _Sql, sql: str) -> Rows:
    """Run a query whose errors come from the user's search syntax."""
    try:
        found = q.rows(sql)
    except ArchiveError as exc:
        raise ArchiveError(_search_error(str(exc))) from None
    return Rows(found.columns, _search_errors_explained(found.rows))


def _search_errors_explained(rows: Iterator[tuple]) -> Iterator[tuple]:
    try:
        yield from rows
    except ArchiveError as exc:
        raise ArchiveError(_search_error(str(exc))) from None


def _search_error(message: str) -> str:
    # The grammar (search_query.py) writes every query; an engine's own message
    # about its query syntax would only confuse.
    engine_words = ("fts5", "no such column", "syntax error", "unterminated", "tsquery", "MATCH")
    if any(word in message for word in engine_words):
        return "cannot search for that text: the full-text index could not read it"
    return message


def search(
    conn: Reader,
    query_text: str,
    filters: Filters,
    *,
    include_stubs: bool = True,
    limit: int | None = SEARCH_LIMIT,
) -> Rows:
    """Full-text search over title, excerpt and body, best matches first.

    The text is read by search_query.parse (README: search): words, "phrases", OR,
    -word or NOT word, word*, and topic:/provider:/since:/until:/type:. Ranking must
    score every match, but with a limit SQLite keeps only the best rows instead of
    sorting them all.
    """
    q = _Sql(conn)
    parsed = search_query.parse(query_text)
    filters = parsed.filters(filters)
    conditions = _date_conditions(q, filters, "a")
    if filters.providers:
        conditions.append(f"p.key IN {q.bind_all(_provider_keys(filters.providers))}")
    if filters.topics:
        keys = [identity.topic_key(t) for t in filters.topics]
        conditions.append(
            "a.id IN (SELECT at.article_id FROM article_topic at JOIN topic t ON t.id = at.topic_id"
            f" WHERE t.key IN {q.bind_all(keys)})"
        )
    if not include_stubs:
        conditions.append("NOT a.is_stub" if q.postgres else "a.is_stub = 0")
    if _any_removed(conn):
        conditions.append("a.removed_at IS NULL")
    if parsed.type_:
        conditions.append(f"lower(a.type) = {q.bind(parsed.type_.lower())}")
    limited = f" LIMIT {q.bind(limit)}" if limit is not None else ""
    if parsed.cjk:  # substrings, not index words: ranked alike on both engines
        conditions.insert(0, search_query.condition(parsed, q.postgres, q.bind, "a"))
        found = _checked(
            q, search_query.cjk_search_sql(parsed, q.postgres, q.bind, conditions, limited)
        )
        return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))
    if q.postgres:
        query = q.bind(search_query.tsquery(parsed))
        conditions.insert(0, f"a.search_vector @@ to_tsquery('archive_search', {query})")
        marked = q.bind(search_query.headline_tsquery(parsed))
        return _search_postgres(q, query, marked, conditions, limited)
    query = q.bind(search_query.fts5_match(parsed))
    conditions.insert(0, f"article_fts MATCH {query}")
    if len(conditions) == 1 and limit is not None:
        # No filter on the article: rank in the full-text index alone, then read
        # articles and make snippets for the best rows only (3x faster for a word
        # that half the archive contains).
        sql = (
            "WITH best AS (SELECT rowid AS id, bm25(article_fts) AS score FROM article_fts"
            f" WHERE article_fts MATCH {query} ORDER BY score, rowid{limited})"
            " SELECT a.published_at, a.title, p.name AS provider, a.url,"
            " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
            " FROM best JOIN article_fts ON article_fts.rowid = best.id"
            " JOIN article a ON a.id = best.id LEFT JOIN provider p ON p.id = a.provider_id"
            f" WHERE article_fts MATCH {query} ORDER BY best.score, best.id"
        )
    else:
        sql = (
            "SELECT a.published_at, a.title, p.name AS provider, a.url,"
            " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
            " FROM article_fts JOIN article a ON a.id = article_fts.rowid"
            " LEFT JOIN provider p ON p.id = a.provider_id"
            f" WHERE {' AND '.join(conditions)} ORDER BY bm25(article_fts), a.id{limited}"
        )
    found = _checked(q, sql)
    # FTS5's auxiliary functions cannot run inside window functions: number here.
    return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))


# ts_headline's options that come closest to FTS5's snippet(..., '[', ']', '…', 12).
_HEADLINE = "StartSel=[, StopSel=], MaxWords=12, MinWords=6, MaxFragments=1, FragmentDelimiter=…"


def _search_postgres(q: _Sql, query: str, marked: str, conditions: list[str], limited: str) -> Rows:
    """PostgreSQL: the grammar's tsquery, ranked by ts_rank (README: PostgreSQL).

    Snippets are made for the best rows only, after the limit: ts_headline re-reads
    and re-parses each article's text.
    """
    sql = (
        f"WITH q AS (SELECT to_tsquery('archive_search', {query}) AS query),"
        " best AS (SELECT a.id, ts_rank(a.search_vector, q.query) AS score"
        " FROM article a CROSS JOIN q LEFT JOIN provider p ON p.id = a.provider_id"
        f" WHERE {' AND '.join(conditions)} ORDER BY score DESC, a.id{limited})"
        " SELECT a.published_at, a.title, p.name AS provider, a.url,"
        " ts_headline('archive_search',"
        f" concat_ws(' ', a.title, a.excerpt, a.body), to_tsquery('archive_search', {marked}),"
        f" {q.bind(_HEADLINE)}) AS snippet"
        " FROM best JOIN article a ON a.id = best.id CROSS JOIN q"
        " LEFT JOIN provider p ON p.id = a.provider_id ORDER BY best.score DESC, best.id"
    )
    found = _checked(q, sql)
    return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))


# --- timeline --------------------------------------------------------------------


# Periods are numbered (days and weeks from 0001-01-01, a Monday; months and years
# from year 0), so that stepping from one to the next is adding 1: it cannot loop,
# and it cannot overflow a date, since only periods holding a date are labelled.
def _period(day: dt.date, by: str) -> int:
    if by == "day":
        return day.toordinal()
    if by == "week":
        return (day.toordinal() - 1) // 7  # ISO weeks start on Monday, as 0001-01-01
    if by == "month":
        return day.year * 12 + day.month - 1
    return day.year


def _label(period: int, by: str) -> str:
    if by == "day":
        return dt.date.fromordinal(period).isoformat()
    if by == "week":
        year, week, _ = dt.date.fromordinal(period * 7 + 1).isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{period // 12:04d}-{period % 12 + 1:02d}"
    return f"{period:04d}"


# More periods than this in one timeline is a mistake (`--by day --since 0001`):
# refused with a hint rather than printed for minutes. A day per row, it is 273 years.
MAX_PERIODS = 100_000


def _day_counts(q: _Sql, table: str, conditions: list[str], source: str | None = None) -> Counter:
    day = f"date({table}.published_at)"
    where = _where([f"{table}.published_at IS NOT NULL", *conditions])
    counts: Counter = Counter()
    for value, count in q.all(
        f"SELECT {day}, count(*) FROM {source or table}{where} GROUP BY {day}"
    ):
        counts[dt.date.fromisoformat(str(value)[:10])] += count
    return counts


def _selected_day_counts(conn: Reader, filters: Filters) -> Counter:
    """Articles per day that the filters select (own records)."""
    q = _Sql(conn)
    own = f"article.is_stub IS {q.false} AND article.removed_at IS NULL"
    if filters.topics and (len(filters.topics) > 1 or filters.needs_every_topic()):
        # An article with two of the topics counts once.
        conditions = [
            f"article.id IN ({_topic_article_ids(q, filters)})",
            own,
            *_date_conditions(q, filters),
            *_provider_condition(q, filters),
        ]
        return _day_counts(q, "article", conditions)
    if filters.topics:
        joined, topic_condition = _topic_links(q, filters.topics)
        conditions = [topic_condition, *_link_conditions(q, filters)]
        return _day_counts(q, "article_topic", conditions, joined)
    conditions = [own, *_date_conditions(q, filters), *_provider_condition(q, filters)]
    return _day_counts(q, "article", conditions)


def _all_day_counts(conn: Reader, filters: Filters) -> Counter:
    """Articles per day in the whole archive (within --since/--until): the share's
    denominator."""
    q = _Sql(conn)
    own = f"article.is_stub IS {q.false} AND article.removed_at IS NULL"
    return _day_counts(q, "article", [own, *_date_conditions(q, filters)])


def timeline(conn: Reader, filters: Filters, *, by: str = "month", compare: bool = False) -> Rows:
    """Articles per period, empty periods included, with each period's share of all
    articles published in it (attention over time). A period without any article has
    no share (NULL, not 0). Without a topic or provider the selection is everything:
    no share then. With `compare`, one count and share column per topic (or, without
    topics, per provider): compare_timeline."""
    if by not in PERIODS:
        raise UsageError(f"--by must be one of {', '.join(PERIODS)}")
    if compare:
        return compare_timeline(conn, filters, by=by)
    selected = _selected_day_counts(conn, filters)
    if not filters.topics and not filters.providers:
        rows = ((label, counts[0]) for label, _total, counts in
                _period_counts([selected], Counter(), by, filters))  # fmt: skip
        return Rows(["period", "articles"], rows, bar_column="articles")
    everything = _all_day_counts(conn, filters)
    return Rows(
        ["period", "articles", "all_articles", "share"],
        (
            (label, counts[0], total, _share(counts[0], total))
            for label, total, counts in _period_counts([selected], everything, by, filters)
        ),
        bar_column="articles",
    )


def compare_timeline(conn: Reader, filters: Filters, *, by: str = "month") -> Rows:
    """One row per period: all articles published in it, then each series' articles
    and share of them. The series are the topics (each also filtered by the
    providers, if any), else the providers."""
    if by not in PERIODS:
        raise UsageError(f"--by must be one of {', '.join(PERIODS)}")
    series = _comparison_series(conn, filters)
    if not series:
        raise UsageError(
            "--compare needs the series to compare: --topic A --topic B (or --provider)"
        )
    counts = [_selected_day_counts(conn, chosen) for _name, chosen in series]
    everything = _all_day_counts(conn, filters)
    columns = ["period", "all_articles"]
    for name, _chosen in series:
        columns += [name, f"{name} share"]
    # The periods are checked (MAX_PERIODS) here, before the header is written.
    return Rows(columns, _compared_rows(_period_counts(counts, everything, by, filters)))


def _comparison_series(conn: Reader, filters: Filters) -> list[tuple[str, Filters]]:
    """(column name, filters) for each series; topics named as the archive spells them."""
    if filters.topics:
        known = _names(conn, "SELECT key, name FROM topic")
        topics = dict.fromkeys(known.get(identity.topic_key(t), t.strip()) for t in filters.topics)
        return [(name, replace(filters, topics=(name,), all_topics=False)) for name in topics]
    providers = dict.fromkeys(p.strip() for p in filters.providers)
    return [(name, replace(filters, providers=(name,))) for name in providers]


def _compared_rows(periods: Iterator[tuple[str, int, list[int]]]) -> Iterator[tuple]:
    for label, total, per_series in periods:
        row: list[Any] = [label, total]
        for count in per_series:
            row += [count, _share(count, total)]
        yield tuple(row)


def _share(count: int, total: int) -> float | None:
    """count / total to four places; None for a period without articles (0/0)."""
    return round(count / total, 4) if total else None


def _period_counts(
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
        bounds.append(_period(filters.since.date(), by))
    if filters.until is not None:
        bounds.append(_period((filters.until - dt.timedelta(microseconds=1)).date(), by))
    first, last = min(bounds), max(bounds)
    if last - first + 1 > MAX_PERIODS:
        raise UsageError(
            f"--by {by} from {_label(first, by)} to {_label(last, by)} is"
            f" {last - first + 1:,} periods, more than {MAX_PERIODS:,}: narrow it with"
            " --since/--until or count by a longer period with --by"
        )
    return (
        (_label(period, by), per_all[period], [counts[period] for counts in per_selected])
        for period in range(first, last + 1)
    )


def _per_period(days: Counter, by: str) -> Counter:
    periods: Counter = Counter()
    for day, count in days.items():
        periods[_period(day, by)] += count
    return periods


# --- one article -----------------------------------------------------------------

# A URL the way `articles` and `related` print them: http(s), a host, a path, no
# query, fragment, port or user. Its key is very likely the host (lower case,
# without www.) and the path without a trailing slash.
_PLAIN_ADDRESS = re.compile(r"https?://(?:www\.)?([^/?#@:\s]+)(/[^?#\s]*)?", re.IGNORECASE)
# A YouTube video's usual links, whose key is its watch URL (identity._youtube_video).
_YOUTUBE_ADDRESS = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtu\.be/|youtube\.com/watch\?v=)([A-Za-z0-9_-]+)"
)


def _written_address(q: _Sql, url: str) -> int | None:
    """The article that has `url` as one of its own addresses, exactly as written,
    found without normalizing the URL (ural takes a tenth of a second to load).

    The importer keys an article by every address it was given, so an address
    written on the article row has its key pointing at that row: the article found
    here is the one url_key() finds. The guessed key only narrows the search.
    """
    video = _YOUTUBE_ADDRESS.fullmatch(url)
    match = _PLAIN_ADDRESS.fullmatch(url)
    if video is not None:
        guess = f"youtube.com/watch?v={video.group(1)}"
    elif match is not None:
        guess = match.group(1).lower() + (match.group(2) or "").rstrip("/")
    else:
        return None
    written = q.bind(url)
    return q.scalar(
        "SELECT article.id FROM article_url JOIN article ON article.id = article_url.article_id"
        f" WHERE article_url.url_key = {q.bind(guess)} AND {written} IN"
        " (article.url, article.original_url, article.amp_url, article.cdn_amp_url)"
    )


def find_article(conn: Reader, url: str) -> int:
    article_id = _written_address(_Sql(conn), url.strip())
    if article_id is not None:
        return article_id
    try:
        key = identity.url_key(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    q = _Sql(conn)
    article_id = q.scalar(
        f"SELECT article_url.article_id FROM article_url WHERE article_url.url_key = {q.bind(key)}"
    )
    if article_id is None:
        # A row another tool wrote has no normalized keys (they need ural, which SQL
        # lacks): it is found by its URL exactly as written.
        q = _Sql(conn)
        article_id = q.scalar(
            f"SELECT article.id FROM article WHERE article.url = {q.bind(url.strip())}"
            " ORDER BY article.id LIMIT 1"
        )
    if article_id is None:
        raise ArchiveError(f"no article with URL {url}")
    return article_id


def _related_rows(conn: Reader, article_id: int) -> Rows:
    q = _Sql(conn)

    def side(direction: str, mine: str, theirs: str) -> str:
        return (
            f"SELECT '{direction}' AS direction, related_link.position, other.published_at,"
            " other.title, provider.name AS provider, provider.domain, other.url, other.is_stub"
            f" FROM related_link JOIN article AS other ON other.id = related_link.{theirs}"
            " LEFT OUTER JOIN provider ON provider.id = other.provider_id"
            f" WHERE related_link.{mine} = {q.bind(article_id)}"
        )

    links_to = side("links to", "article_id", "related_article_id")
    linked_from = side("linked from", "related_article_id", "article_id")
    return q.rows(f"{links_to} UNION {linked_from} ORDER BY direction DESC, position, url")


def related(conn: Reader, url: str) -> Rows:
    """The articles `url` links to as related, then the articles that link to it."""
    return _related_rows(conn, find_article(conn, url))


# The article's columns `show` lists, in its order: id, the record's fields but the
# blobs, is_stub; then (after provider, topics, images, links, file) the blobs,
# extra and body.
_SHOWN = ("id", *(f.column for f in ARTICLE_FIELDS if not f.blob), "is_stub")
_SHOWN_LAST = (*(f.column for f in ARTICLE_FIELDS if f.blob), "extra", "body")


# `show` lists this many of the other files that describe the article (--files: all).
SHOWN_FILES = 3


def show(conn: Reader, url: str, *, files: bool = False) -> Rows:
    """One article in full: (field, value) rows, and the same as one object (JSON);
    of the other files that describe it, the first few only unless `files`."""
    record = article_record(conn, find_article(conn, url), files=files)
    return Rows(["field", "value"], iter(_field_pairs(record)), layout="vertical", record=record)


def article_record(conn: Reader, article_id: int, *, files: bool = True) -> dict[str, Any]:
    """Everything the archive knows of one article, typed: topics a list, images and
    related links lists of objects; the other files all, or SHOWN_FILES of them
    (and how many more in `more_files`)."""
    q = _Sql(conn)
    columns = ", ".join(f"article.{c}" for c in (*_SHOWN, *_SHOWN_LAST, "source_file_id"))
    names, found = conn.execute(
        f"SELECT {columns}, provider.name AS provider_name, provider.domain AS provider_domain"
        " FROM article LEFT OUTER JOIN provider ON provider.id = article.provider_id"
        f" WHERE article.id = {q.bind(article_id)}",
        q.params,
    )
    row = dict(zip(names, next(_converted(names, found)), strict=True))
    record: dict[str, Any] = {name: row[name] for name in _SHOWN}
    record["provider"], record["provider_domain"] = row["provider_name"], row["provider_domain"]
    q = _Sql(conn)
    record["topics"] = [
        name
        for (name,) in q.all(
            "SELECT topic.name FROM topic JOIN article_topic ON article_topic.topic_id = topic.id"
            f" WHERE article_topic.article_id = {q.bind(article_id)}"
            " ORDER BY article_topic.position"
        )
    ]
    q = _Sql(conn)
    record["images"] = [
        {"url": image_url, "width": width, "height": height}
        for image_url, width, height in q.all(
            "SELECT image.url, image.width, image.height"
            " FROM image JOIN article_image ON article_image.image_id = image.id"
            f" WHERE article_image.article_id = {q.bind(article_id)}"
            " ORDER BY article_image.position"
        )
    ]
    links = list(_related_rows(conn, article_id).rows)
    for direction in ("links to", "linked from"):
        record[direction.replace(" ", "_")] = [
            {"url": link[6], "provider": link[4]} for link in links if link[0] == direction
        ]
    record["copies"] = _copies(conn, article_id)
    source = _source_of(conn, row["source_file_id"], row["is_stub"])
    record.update(source)
    record.update((name, row[name]) for name in _SHOWN_LAST)
    others = _other_files(conn, article_id, row["source_file_id"]) if source else []
    record["also_in_file"] = others if files else others[:SHOWN_FILES]
    if len(others) > len(record["also_in_file"]):
        record["more_files"] = len(others) - len(record["also_in_file"])
    return record


def _source_of(conn: Reader, file_id: Any, is_stub: Any) -> dict[str, Any]:
    q = _Sql(conn)
    source = q.all(
        "SELECT source_file.path, source_file.imported_at, source_file.sha256"
        f" FROM source_file WHERE source_file.id = {q.bind(file_id)}"
    )
    if not source:
        return {}
    path, imported_at, sha256 = source[0]
    return {
        "named_in_file" if is_stub else "source_file": path,
        "imported_at": imported_at,
        "sha256": sha256,
    }


def _field_pairs(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The record as `show` lists it on a terminal: one (field, value) per line, a
    line for each image, related link and other file."""
    for name, value in record.items():
        if name == "images":
            for position, image in enumerate(value):
                width, height = image["width"], image["height"]
                size = f" ({width}x{height})" if width and height else ""
                yield f"image[{position}]", f"{image['url']}{size}"
        elif name in ("links_to", "linked_from"):
            for link in value:
                yield name, f"{link['url']} ({link['provider'] or 'unknown provider'})"
        elif name == "copies":
            yield from (_copy_line(copy) for copy in value)
        elif name == "also_in_file":
            yield from ((name, path) for path in value)
        elif name == "more_files":
            yield "also_in_file", f"… and {value} more (--files)"
        elif name == "named_in_file":
            yield "named in file", value
        else:
            yield name, value


def _copies(conn: Reader, article_id: int) -> list[dict[str, Any]]:
    """The article's story (README: Stories): the other copies, the first marked."""
    q = _Sql(conn)
    me = q.bind(article_id)
    rows = q.all(
        "SELECT other.id, other.url, provider.name AS provider, other.published_at,"
        " story.origin_article_id FROM article_story AS mine"
        " JOIN story ON story.id = mine.story_id"
        " JOIN article_story AS theirs ON theirs.story_id = mine.story_id"
        " JOIN article AS other ON other.id = theirs.article_id"
        " LEFT JOIN provider ON provider.id = other.provider_id"
        f" WHERE mine.article_id = {me} AND other.id != {me}"
        " ORDER BY other.published_at IS NULL, other.published_at, other.id"
    )
    return [
        {"url": url, "provider": provider, "published_at": published_at, "first": other == origin}
        for other, url, provider, published_at, origin in rows
    ]


def _copy_line(copy: dict[str, Any]) -> tuple[str, str]:
    published = copy["published_at"]
    when = published.date().isoformat() if published else "undated"
    provider = copy["provider"] or "unknown provider"
    return ("copy_first" if copy["first"] else "copy"), f"{copy['url']} ({provider}, {when})"


def _other_files(conn: Reader, article_id: int, shown: int) -> list[str]:
    """Other files whose current version describes the article (the README's "Several
    files, one article"), in import order. A file is its collection and path in it
    (before revision 0007: its path); a deleted file is no longer one."""
    q = _Sql(conn)
    return [
        path
        for (path,) in q.all(
            "SELECT source_file.path FROM source_file"
            f" WHERE source_file.article_id = {q.bind(article_id)}"
            f" AND source_file.id != {q.bind(shown)} AND source_file.removed_at IS NULL"
            " AND NOT (EXISTS (SELECT later.id FROM source_file AS later"
            " WHERE later.id > source_file.id AND (later.collection_id = source_file.collection_id"
            " AND later.rel_path = source_file.rel_path OR later.collection_id IS NULL"
            " AND source_file.collection_id IS NULL AND later.path = source_file.path)))"
            " ORDER BY source_file.id"
        )
    ]


# --- stats -----------------------------------------------------------------------


def stats(conn: Reader) -> Rows:
    """Rows per table, date range, database size (SQLite) and schema revision."""
    q = _Sql(conn)
    rows: list[tuple[str, Any]] = [
        (f"rows in {table}", q.scalar(f"SELECT count(*) FROM {table}")) for table in TABLE_NAMES
    ]
    own, stubs, first, last = q.all(
        f"SELECT sum(CASE WHEN article.is_stub IS {q.true} THEN 0 ELSE 1 END),"
        f" sum(CASE WHEN article.is_stub IS {q.true} THEN 1 ELSE 0 END),"
        " min(article.published_at), max(article.published_at) FROM article"
    )[0]
    rows += [
        ("articles with own record", own or 0),
        ("articles known only from related entries", stubs or 0),
        ("first published", _instant(first)),
        ("last published", _instant(last)),
    ]
    path = conn.path()
    if path is not None and path.exists():
        wal = path.with_name(path.name + "-wal")
        size = sum(p.stat().st_size for p in (path, wal) if p.exists())
        rows.append(("database size (MB)", round(size / 1e6, 2)))
    rows.append(("schema revision", q.scalar("SELECT version_num FROM alembic_version")))
    return Rows(["metric", "value"], iter(rows))


# --- empty answers ---------------------------------------------------------------


def unknown_names(conn: Reader, filters: Filters) -> list[str]:
    """Notes on the filter values that name no topic or provider in the archive,
    each with the nearest names it has (at most three): why an answer is empty."""
    notes = []
    if filters.topics:
        known = _names(conn, "SELECT key, name FROM topic")
        for topic in filters.topics:
            if identity.topic_key(topic) not in known:
                notes.append(_unknown("topic", topic, identity.topic_key(topic), known))
    if filters.providers:
        rows = _Sql(conn).all("SELECT key, name, domain FROM provider")
        keys = {key for key, _name, _domain in rows}
        # Suggest by domain (what --provider takes), or by name for a provider
        # without one; match a typed name against names too.
        by_text: dict[str, str] = {}
        for _key, name, domain in rows:
            if domain:
                by_text.setdefault(identity.domain_key(domain), identity.domain_key(domain))
            if name:
                by_text.setdefault(identity.text_key(name), domain or name)
        for value in filters.providers:
            if not keys.intersection(_provider_keys([value])):
                notes.append(_unknown("provider", value, identity.domain_key(value), by_text))
    return notes


def _names(conn: Reader, sql: str) -> dict[str, str]:
    return {key: name for key, name in _Sql(conn).all(sql)}


def close_names(key: str, known: dict[str, str]) -> list[str]:
    """The names (at most three) whose keys are nearest `key`, from {key: name}; the
    CLI's notes and the web timeline's "did you mean" both use it."""
    # An exact key is a provider's name, where --provider takes its domain.
    close = [key] if key in known else difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    return list(dict.fromkeys(known[k] for k in close))


def _unknown(kind: str, value: str, key: str, known: dict[str, str]) -> str:
    suggestions = close_names(key, known)
    note = f'no {kind} "{value}"'
    if suggestions:
        return f"{note}; did you mean: {', '.join(suggestions)}?"
    return f"{note} (archive {kind}s lists them)"


__all__ = [
    "PERIODS",
    "Filters",
    "Reader",
    "articles",
    "compare_timeline",
    "cooccur",
    "find_article",
    "open_reader",
    "parse_date",
    "providers",
    "related",
    "search",
    "show",
    "stats",
    "timeline",
    "topics",
    "unknown_names",
]
