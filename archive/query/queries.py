"""The questions users ask of an archive, as functions returning rows.

Every filter value is a bound parameter, never text pasted into SQL. Each function
returns `rows.Rows` (column names and a row stream), which the CLI formats; a
library user can iterate the rows directly.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    case,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.exc import OperationalError

from .. import identity
from ..errors import ArchiveError, UsageError
from ..record_format import ARTICLE_FIELDS
from ..rows import Rows
from ..store import database, models
from ..store.models import tables
from .filters import PERIODS, SEARCH_LIMIT, Filters, parse_date


def _provider_keys(values: Sequence[str]) -> list[str]:
    keys = []
    for value in values:
        keys.append(identity.domain_key(value))
        keys.append(identity.provider_key(value, None))  # a provider known only by name
    return keys


def _topic_links(topics: Sequence[str], links: Any = None) -> tuple[Any, Any]:
    """FROM and WHERE for the links of some topics, written as a join from `topic`.

    As a join, SQLite looks the topic up first and then reads only its links from
    the (topic_id, ...) index; with `topic_id IN (SELECT ...)` it sometimes scans
    the whole provider-first index instead (100 ms instead of 0.5 ms for a rare topic
    at a million articles).
    """
    links = tables.article_topic if links is None else links
    keys = [identity.topic_key(t) for t in topics]
    return links.join(tables.topic, tables.topic.c.id == links.c.topic_id), tables.topic.c.key.in_(
        keys
    )


def _articles_with_topics(topics: Sequence[str]) -> Select:
    joined, condition = _topic_links(topics)
    return select(tables.article_topic.c.article_id).select_from(joined).where(condition)


def _date_conditions(filters: Filters) -> list[Any]:
    conditions = []
    if filters.since is not None:
        conditions.append(tables.article.c.published_at >= filters.since)
    if filters.until is not None:
        conditions.append(tables.article.c.published_at < filters.until)
    return conditions


def _provider_condition(filters: Filters) -> list[Any]:
    if not filters.providers:
        return []
    keys = _provider_keys(filters.providers)
    return [
        tables.article.c.provider_id.in_(
            select(tables.provider.c.id).where(tables.provider.c.key.in_(keys))
        )
    ]


def _rows(conn: Connection, query: Any) -> Rows:
    result = conn.execution_options(yield_per=1000).execute(query)
    return Rows(list(result.keys()), (tuple(row) for row in result))


# --- providers, topics, co-occurrence --------------------------------------------


def _link_conditions(filters: Filters, links: Any = None) -> list[Any]:
    """Filters on article_topic's copies of the article's provider and time."""
    columns = (tables.article_topic if links is None else links).c
    conditions = []
    if filters.since is not None:
        conditions.append(columns.published_at >= filters.since)
    if filters.until is not None:
        conditions.append(columns.published_at < filters.until)
    if filters.providers:
        keys = _provider_keys(filters.providers)
        providers = select(tables.provider.c.id).where(tables.provider.c.key.in_(keys))
        conditions.append(columns.provider_id.in_(providers))
    return conditions


def _by_provider(counts: Any) -> Select:
    """Provider rows for a subquery of (provider_id, articles, first, last)."""
    return (
        select(
            tables.provider.c.name,
            tables.provider.c.domain,
            counts.c.articles,
            counts.c.first_published,
            counts.c.last_published,
            (counts.c.articles * 1.0 / func.sum(counts.c.articles).over()).label("share"),
        )
        .select_from(counts.join(tables.provider, tables.provider.c.id == counts.c.provider_id))
        # NULLS FIRST: SQLite's order for a provider known only by its domain, made
        # explicit so PostgreSQL (which sorts NULL last) gives the same answer.
        .order_by(counts.c.articles.desc(), tables.provider.c.name.asc().nulls_first())
    )


def providers(conn: Connection, filters: Filters, *, include_related: bool = False) -> Rows:
    """Providers by number of articles (own records) matching the filters.

    With `include_related`, articles that those articles link to as related count
    too (they may be known only from the related entries).
    """
    if filters.topics and not include_related:
        # The hot question: an index-only scan of the topic's links.
        links = tables.article_topic.c
        count = func.count(distinct(links.article_id)) if len(filters.topics) > 1 else func.count()
        joined, topic_condition = _topic_links(filters.topics)
        counts = (
            select(
                links.provider_id,
                count.label("articles"),
                func.min(links.published_at).label("first_published"),
                func.max(links.published_at).label("last_published"),
            )
            .select_from(joined)
            .where(topic_condition, *_link_conditions(filters))
            .group_by(links.provider_id)
            .subquery()
        )
        return _rows(conn, _by_provider(counts))
    condition: Any = tables.article.c.is_stub.is_(false())
    if filters.topics:
        # Only own records have topics, so the topic's links are own articles.
        base: Any = _articles_with_topics(filters.topics)
        condition = tables.article.c.id.in_(base)
    else:
        base = select(tables.article.c.id).where(tables.article.c.is_stub.is_(false()))
    source: Any = tables.article
    if include_related:
        linked = select(tables.related.c.related_article_id).where(
            tables.related.c.article_id.in_(base)
        )
        if filters.topics:
            # One list of ids, made distinct by GROUP BY (a sort) rather than by
            # UNION's B-tree, then joined to article in id order: 0.66 s instead of
            # 0.95 s for the most popular topic at a million articles.
            ids = union_all(base, linked).subquery()
            unique_ids = select(ids.c.article_id).group_by(ids.c.article_id).subquery()
            source = tables.article.join(unique_ids, tables.article.c.id == unique_ids.c.article_id)
            condition = true()
        else:
            condition = or_(condition, tables.article.c.id.in_(linked))
    counts = (
        select(
            tables.article.c.provider_id,
            func.count().label("articles"),
            func.min(tables.article.c.published_at).label("first_published"),
            func.max(tables.article.c.published_at).label("last_published"),
        )
        .select_from(source)
        .where(condition, *_date_conditions(filters), *_provider_condition(filters))
        .group_by(tables.article.c.provider_id)
        .subquery()
    )
    return _rows(conn, _by_provider(counts))


def topics(conn: Connection, filters: Filters) -> Rows:
    """Topics by number of articles, optionally of some providers only."""
    links = tables.article_topic.c
    counts = select(
        links.topic_id,
        func.count().label("articles"),
        func.min(links.published_at).label("first_published"),
        func.max(links.published_at).label("last_published"),
    ).where(*_link_conditions(filters))
    if filters.topics:
        joined, topic_condition = _topic_links(filters.topics)
        counts = counts.select_from(joined).where(topic_condition)
    counts = counts.group_by(links.topic_id).subquery()
    query = (
        select(
            tables.topic.c.name,
            counts.c.articles,
            counts.c.first_published,
            counts.c.last_published,
        )
        .select_from(counts.join(tables.topic, tables.topic.c.id == counts.c.topic_id))
        .order_by(counts.c.articles.desc(), tables.topic.c.name)
    )
    return _rows(conn, query)


def cooccur(conn: Connection, topic: str, filters: Filters) -> Rows:
    """Topics that appear on the same articles as `topic`, with counts."""
    mine = tables.article_topic.alias("mine")
    other = tables.article_topic.alias("other")
    joined, topic_condition = _topic_links([topic])
    with_topic = (
        select(func.count()).select_from(joined).where(topic_condition, *_link_conditions(filters))
    )
    total = conn.execute(with_topic).scalar() or 0
    mine_joined, mine_condition = _topic_links([topic], mine)
    conditions = [
        mine_condition,
        other.c.topic_id != mine.c.topic_id,
        *_link_conditions(filters, mine),
    ]
    counts = (
        # (article_id, topic_id) is the primary key: count(*) counts distinct articles.
        select(other.c.topic_id, func.count().label("articles"))
        .select_from(mine_joined.join(other, other.c.article_id == mine.c.article_id))
        .where(*conditions)
        .group_by(other.c.topic_id)
        .subquery()
    )
    query = (
        select(
            tables.topic.c.name,
            counts.c.articles,
            (counts.c.articles * 1.0 / (total or 1)).label("share"),
        )
        .select_from(counts.join(tables.topic, tables.topic.c.id == counts.c.topic_id))
        .order_by(counts.c.articles.desc(), tables.topic.c.name)
    )
    return _rows(conn, query)


# --- articles and search ---------------------------------------------------------


def _topics_column(dialect: str) -> Any:
    """An article's topics, comma-separated, as a correlated subquery."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        return (
            select(
                func.string_agg(
                    tables.topic.c.name,
                    aggregate_order_by(literal(", "), tables.article_topic.c.position),
                )
            )
            .select_from(
                tables.article_topic.join(
                    tables.topic, tables.topic.c.id == tables.article_topic.c.topic_id
                )
            )
            .where(tables.article_topic.c.article_id == tables.article.c.id)
            .correlate(tables.article)
            .scalar_subquery()
        )
    inner = (
        select(tables.topic.c.name)
        .select_from(
            tables.article_topic.join(
                tables.topic, tables.topic.c.id == tables.article_topic.c.topic_id
            )
        )
        .where(tables.article_topic.c.article_id == tables.article.c.id)
        .order_by(tables.article_topic.c.position)
        .correlate(tables.article)
        .subquery()
    )
    return select(func.group_concat(inner.c.name, ", ")).scalar_subquery()


def articles(
    conn: Connection,
    filters: Filters,
    *,
    type_: str | None = None,
    min_quality: int | None = None,
    search: str | None = None,
    include_stubs: bool = False,
) -> Rows:
    query = (
        select(
            tables.article.c.published_at,
            tables.article.c.title,
            tables.provider.c.name.label("provider"),
            tables.provider.c.domain,
            _topics_column(conn.dialect.name).label("topics"),
            tables.article.c.type,
            tables.article.c.quality,
            tables.article.c.url,
            tables.article.c.is_stub,
        )
        .select_from(
            tables.article.outerjoin(
                tables.provider, tables.provider.c.id == tables.article.c.provider_id
            )
        )
        .where(*_date_conditions(filters), *_provider_condition(filters))
        # NULLS LAST: undated articles after the dated ones, as SQLite sorts them.
        .order_by(tables.article.c.published_at.desc().nulls_last(), tables.article.c.id)
    )
    if not include_stubs:
        query = query.where(tables.article.c.is_stub.is_(false()))
    if filters.topics:
        query = query.where(tables.article.c.id.in_(_articles_with_topics(filters.topics)))
    if type_:
        query = query.where(func.lower(tables.article.c.type) == type_.lower())
    if min_quality is not None:
        query = query.where(tables.article.c.quality >= min_quality)
    if search:
        query = query.where(tables.article.c.id.in_(_fts_ids(conn, search)))
    return _checked(conn, query)


def _fts_ids(conn: Connection, search: str) -> Any:
    if conn.dialect.name == "postgresql":  # the search column of migration 0002
        return text(
            "SELECT id FROM article"
            " WHERE search_vector @@ websearch_to_tsquery('archive_search', :search)"
        ).bindparams(search=search)
    # SQLite: the FTS5 index created by migration 0002.
    return text("SELECT rowid FROM article_fts WHERE article_fts MATCH :search").bindparams(
        search=search
    )


def _checked(conn: Connection, query: Any) -> Rows:
    """Run a query whose errors come from the user's search syntax."""
    try:
        result = conn.execution_options(yield_per=1000).execute(query)
    except OperationalError as exc:
        raise ArchiveError(_search_error(exc)) from None
    return Rows(list(result.keys()), (tuple(row) for row in result))


def _search_error(exc: OperationalError) -> str:
    message = str(exc.orig)
    if any(hint in message for hint in ("fts5", "no such column", "syntax error", "unterminated")):
        return f"cannot search for that: {message} (put words with punctuation in double quotes)"
    return message


def search(
    conn: Connection,
    query_text: str,
    filters: Filters,
    *,
    include_stubs: bool = True,
    limit: int | None = SEARCH_LIMIT,
) -> Rows:
    """Full-text search over title, excerpt and body, best matches first.

    SQLite-specific (FTS5). The text is FTS5 query syntax: words (all must match),
    "exact phrases", OR, NOT, prefix*. Ranking must score every match, but with a
    limit SQLite keeps only the best rows instead of sorting them all.
    """
    postgres = conn.dialect.name == "postgresql"
    match = (
        "a.search_vector @@ websearch_to_tsquery('archive_search', :query)"
        if postgres
        else "article_fts MATCH :query"
    )
    conditions = [match]
    params: dict[str, Any] = {"query": query_text}
    if limit is not None:
        params["limit"] = limit
    if filters.since is not None:
        conditions.append("a.published_at >= :since")
        params["since"] = filters.since if postgres else _stored(filters.since)
    if filters.until is not None:
        conditions.append("a.published_at < :until")
        params["until"] = filters.until if postgres else _stored(filters.until)
    if filters.providers:
        names = [f":provider{i}" for i in range(len(_provider_keys(filters.providers)))]
        conditions.append(f"p.key IN ({', '.join(names)})")
        params.update(
            {n[1:]: key for n, key in zip(names, _provider_keys(filters.providers), strict=True)}
        )
    if filters.topics:
        names = [f":topic{i}" for i in range(len(filters.topics))]
        conditions.append(
            "a.id IN (SELECT at.article_id FROM article_topic at JOIN topic t ON t.id = at.topic_id"
            f" WHERE t.key IN ({', '.join(names)}))"
        )
        params.update(
            {n[1:]: identity.topic_key(t) for n, t in zip(names, filters.topics, strict=True)}
        )
    if not include_stubs:
        conditions.append("NOT a.is_stub" if postgres else "a.is_stub = 0")
    if postgres:
        return _search_postgres(conn, conditions, params, limit)
    if len(conditions) == 1 and limit is not None:
        # No filter on the article: rank in the full-text index alone, then read
        # articles and make snippets for the best rows only (3x faster for a word
        # that half the archive contains).
        sql = (
            text(
                "WITH best AS (SELECT rowid AS id, bm25(article_fts) AS score FROM article_fts"
                " WHERE article_fts MATCH :query ORDER BY score, rowid LIMIT :limit)"
                " SELECT a.published_at, a.title, p.name AS provider, a.url,"
                " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
                " FROM best JOIN article_fts ON article_fts.rowid = best.id"
                " JOIN article a ON a.id = best.id LEFT JOIN provider p ON p.id = a.provider_id"
                " WHERE article_fts MATCH :query ORDER BY best.score, best.id"
            )
            .bindparams(**params)
            .columns(published_at=tables.article.c.published_at.type)
        )
        found = _checked(conn, sql)
        return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))
    sql = (
        text(
            "SELECT a.published_at, a.title,"
            " p.name AS provider, a.url,"
            " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
            " FROM article_fts JOIN article a ON a.id = article_fts.rowid"
            " LEFT JOIN provider p ON p.id = a.provider_id"
            f" WHERE {' AND '.join(conditions)} ORDER BY bm25(article_fts), a.id"
            + (" LIMIT :limit" if limit is not None else "")
        )
        .bindparams(**params)
        .columns(published_at=tables.article.c.published_at.type)
    )
    found = _checked(conn, sql)
    # FTS5's auxiliary functions cannot run inside window functions: number here.
    return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))


# ts_headline's options that come closest to FTS5's snippet(..., '[', ']', '…', 12).
_HEADLINE = "StartSel=[, StopSel=], MaxWords=12, MinWords=6, MaxFragments=1, FragmentDelimiter=…"


def _search_postgres(
    conn: Connection, conditions: list[str], params: dict[str, Any], limit: int | None
) -> Rows:
    """PostgreSQL: websearch_to_tsquery syntax, ranked by ts_rank (README: PostgreSQL).

    Snippets are made for the best rows only, after the limit: ts_headline re-reads
    and re-parses each article's text.
    """
    sql = (
        text(
            "WITH q AS (SELECT websearch_to_tsquery('archive_search', :query) AS query),"
            " best AS (SELECT a.id, ts_rank(a.search_vector, q.query) AS score"
            " FROM article a CROSS JOIN q LEFT JOIN provider p ON p.id = a.provider_id"
            f" WHERE {' AND '.join(conditions)} ORDER BY score DESC, a.id"
            + (" LIMIT :limit" if limit is not None else "")
            + ")"
            " SELECT a.published_at, a.title, p.name AS provider, a.url,"
            " ts_headline('archive_search',"
            " concat_ws(' ', a.title, a.excerpt, a.body), q.query, :headline) AS snippet"
            " FROM best JOIN article a ON a.id = best.id CROSS JOIN q"
            " LEFT JOIN provider p ON p.id = a.provider_id ORDER BY best.score DESC, best.id"
        )
        .bindparams(headline=_HEADLINE, **params)
        .columns(published_at=tables.article.c.published_at.type)
    )
    found = _checked(conn, sql)
    return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))


def _stored(stamp: dt.datetime) -> str:
    """A UTC datetime as SQLite stores timestamps (for raw SQL comparisons)."""
    return stamp.astimezone(dt.timezone.utc).strftime(models.ISO_UTC_FORMAT)


# --- timeline --------------------------------------------------------------------


def _period_start(day: dt.date, by: str) -> dt.date:
    if by == "day":
        return day
    if by == "week":
        return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday
    if by == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _next_period(start: dt.date, by: str) -> dt.date:
    if by == "day":
        return start + dt.timedelta(days=1)
    if by == "week":
        return start + dt.timedelta(days=7)
    if by == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def _label(start: dt.date, by: str) -> str:
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return start.strftime("%Y-%m")
    if by == "year":
        return str(start.year)
    return start.isoformat()


def _day_counts(conn: Connection, table: Any, conditions: list[Any], source: Any = None) -> Counter:
    day = func.date(table.c.published_at)
    query = (
        select(day, func.count())
        .select_from(table if source is None else source)
        .where(table.c.published_at.is_not(None), *conditions)
        .group_by(day)
    )
    counts: Counter = Counter()
    for value, count in conn.execute(query):
        counts[dt.date.fromisoformat(str(value)[:10])] += count
    return counts


def timeline(conn: Connection, filters: Filters, *, by: str = "month") -> Rows:
    """Articles per period, empty periods included, with each period's share of all
    articles published in it (attention over time)."""
    if by not in PERIODS:
        raise UsageError(f"--by must be one of {', '.join(PERIODS)}")
    own = [tables.article.c.is_stub.is_(false()), *_date_conditions(filters)]
    if filters.topics:
        if len(filters.topics) > 1:  # an article with two of the topics counts once
            conditions = [tables.article.c.id.in_(_articles_with_topics(filters.topics)), *own]
            conditions += _provider_condition(filters)
            selected = _day_counts(conn, tables.article, conditions)
        else:
            joined, topic_condition = _topic_links(filters.topics)
            conditions = [topic_condition, *_link_conditions(filters)]
            selected = _day_counts(conn, tables.article_topic, conditions, joined)
    else:
        selected = _day_counts(conn, tables.article, own + _provider_condition(filters))
    everything = _day_counts(conn, tables.article, own)
    return Rows(
        ["period", "articles", "all_articles", "share"],
        _periods(selected, everything, by, filters),
        bar_column="articles",
    )


def _periods(selected: Counter, everything: Counter, by: str, filters: Filters) -> Iterator[tuple]:
    """One row per period from the first to the last article, or across --since and
    --until when given, so that quiet periods show as zeros."""
    per_selected: Counter = Counter()
    per_all: Counter = Counter()
    for day, count in selected.items():
        per_selected[_period_start(day, by)] += count
    for day, count in everything.items():
        per_all[_period_start(day, by)] += count
    bounds = list(per_selected)
    if filters.since is not None:
        bounds.append(_period_start(filters.since.date(), by))
    if filters.until is not None:
        bounds.append(_period_start((filters.until - dt.timedelta(microseconds=1)).date(), by))
    if not per_selected or not bounds:
        return
    start, last = min(bounds), max(bounds)
    while start <= last:
        count, total = per_selected[start], per_all[start]
        yield (_label(start, by), count, total, round(count / total, 4) if total else 0.0)
        start = _next_period(start, by)


# --- one article -----------------------------------------------------------------


def find_article(conn: Connection, url: str) -> int:
    try:
        key = identity.url_key(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    article_id = conn.execute(
        select(tables.article_url.c.article_id).where(tables.article_url.c.url_key == key)
    ).scalar()
    if article_id is None:
        # A row another tool wrote has no normalized keys (they need ural, which SQL
        # lacks): it is found by its URL exactly as written.
        article_id = conn.execute(
            select(tables.article.c.id)
            .where(tables.article.c.url == url.strip())
            .order_by(tables.article.c.id)
            .limit(1)
        ).scalar()
    if article_id is None:
        raise ArchiveError(f"no article with URL {url}")
    return article_id


def related(conn: Connection, url: str) -> Rows:
    """The articles `url` links to as related, then the articles that link to it."""
    article_id = find_article(conn, url)
    other = tables.article.alias("other")

    def side(direction: str, mine: Any, theirs: Any) -> Select:
        return (
            select(
                literal(direction).label("direction"),
                tables.related.c.position,
                other.c.published_at,
                other.c.title,
                tables.provider.c.name.label("provider"),
                tables.provider.c.domain,
                other.c.url,
                other.c.is_stub,
            )
            .select_from(
                tables.related.join(other, other.c.id == theirs).outerjoin(
                    tables.provider, tables.provider.c.id == other.c.provider_id
                )
            )
            .where(mine == article_id)
        )

    links_to = side("links to", tables.related.c.article_id, tables.related.c.related_article_id)
    linked_from = side(
        "linked from", tables.related.c.related_article_id, tables.related.c.article_id
    )
    query = union(links_to, linked_from).order_by(
        text("direction DESC"), text("position"), text("url")
    )
    return _rows(conn, query)


def show(conn: Connection, url: str) -> Rows:
    """One article in full, as (field, value) rows."""
    article_id = find_article(conn, url)
    row = conn.execute(
        select(
            tables.article,
            tables.provider.c.name.label("provider_name"),
            tables.provider.c.domain.label("provider_domain"),
        )
        .select_from(
            tables.article.outerjoin(
                tables.provider, tables.provider.c.id == tables.article.c.provider_id
            )
        )
        .where(tables.article.c.id == article_id)
    ).one()
    fields: list[tuple[str, Any]] = [
        (name, row._mapping[name])
        for name in ("id", *(f.column for f in ARTICLE_FIELDS if not f.blob), "is_stub")
    ]
    fields += [("provider", row.provider_name), ("provider_domain", row.provider_domain)]
    topic_names = conn.execute(
        select(tables.topic.c.name)
        .join(tables.article_topic, tables.article_topic.c.topic_id == tables.topic.c.id)
        .where(tables.article_topic.c.article_id == article_id)
        .order_by(tables.article_topic.c.position)
    ).scalars()
    fields.append(("topics", ", ".join(topic_names)))
    for position, image in enumerate(
        conn.execute(
            select(tables.image.c.url, tables.image.c.width, tables.image.c.height)
            .join(tables.article_image, tables.article_image.c.image_id == tables.image.c.id)
            .where(tables.article_image.c.article_id == article_id)
            .order_by(tables.article_image.c.position)
        )
    ):
        size = f" ({image.width}x{image.height})" if image.width and image.height else ""
        fields.append((f"image[{position}]", f"{image.url}{size}"))
    for link in related(conn, url).rows:
        fields.append((link[0].replace(" ", "_"), f"{link[6]} ({link[4] or 'unknown provider'})"))
    source = conn.execute(
        select(tables.source.c.path, tables.source.c.imported_at, tables.source.c.sha256).where(
            tables.source.c.id == row.source_file_id
        )
    ).first()
    if source is not None:
        label = "named in file" if row.is_stub else "source_file"
        fields += [
            (label, source.path),
            ("imported_at", source.imported_at),
            ("sha256", source.sha256),
        ]
        fields += [("also_in_file", path) for path in _other_files(conn, article_id, source.path)]
    fields += [(f.column, row._mapping[f.column]) for f in ARTICLE_FIELDS if f.blob]
    fields += [("extra", row.extra), ("body", row.body)]
    return Rows(["field", "value"], iter(fields), layout="vertical")


def _other_files(conn: Connection, article_id: int, shown: str) -> list[str]:
    """Other files whose latest content describes the article (the README's "Several
    files, one article"), in import order."""
    source = tables.source
    later = source.alias("later")
    newest = ~(
        select(later.c.id).where(later.c.path == source.c.path, later.c.id > source.c.id).exists()
    )
    return list(
        conn.execute(
            select(source.c.path)
            .where(source.c.article_id == article_id, source.c.path != shown, newest)
            .order_by(source.c.id)
        ).scalars()
    )


# --- stats -----------------------------------------------------------------------


def stats(conn: Connection, location: str) -> Rows:
    rows: list[tuple[str, Any]] = []
    for table in models.TABLE_NAMES:
        rows.append(
            (
                f"rows in {table}",
                conn.execute(
                    select(func.count()).select_from(models.SQLModel.metadata.tables[table])
                ).scalar(),
            )
        )
    counts = conn.execute(
        select(
            func.sum(case((tables.article.c.is_stub.is_(true()), 0), else_=1)),
            func.sum(case((tables.article.c.is_stub.is_(true()), 1), else_=0)),
            func.min(tables.article.c.published_at),
            func.max(tables.article.c.published_at),
        )
    ).one()
    rows += [
        ("articles with own record", counts[0] or 0),
        ("articles known only from related entries", counts[1] or 0),
        ("first published", counts[2]),
        ("last published", counts[3]),
    ]
    url = database.to_url(location)
    if url.get_backend_name() == "sqlite" and url.database and os.path.exists(url.database):
        size = sum(
            os.path.getsize(path)
            for path in (url.database, url.database + "-wal")
            if os.path.exists(path)
        )
        rows.append(("database size (MB)", round(size / 1e6, 2)))
    rows.append(("schema revision", database.current_revision(conn)))
    return Rows(["metric", "value"], iter(rows))


__all__ = [
    "PERIODS",
    "Filters",
    "articles",
    "cooccur",
    "find_article",
    "parse_date",
    "providers",
    "related",
    "search",
    "show",
    "stats",
    "timeline",
    "topics",
]
