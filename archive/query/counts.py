"""Counting questions: providers by articles, topics by articles, co-occurring topics.

Each is a `*_sql` function that writes the statement (run by the CLI through a
Reader, and written for Datasette by serve/queries.py) and a function that runs
it. Every ORDER BY ends in a unique key, and text sorts by code point on both
engines (Sql.text_order), so that SQLite and PostgreSQL list rows alike.
"""

from __future__ import annotations

from typing import Any

from ..rows import Rows
from .conditions import (
    date_conditions,
    link_conditions,
    provider_condition,
    topic_article_ids,
    topic_links,
)
from .filters import Filters
from .reader import Reader
from .sql import Sql, where


def _by_provider(q: Sql, counts: str) -> str:
    """Provider rows for a subquery of (provider_id, articles, first, last)."""
    return (
        "SELECT provider.name, provider.domain, c.articles, c.first_published,"
        " c.last_published,"
        " CAST(c.articles AS DOUBLE PRECISION) / sum(c.articles) OVER () AS share"
        f" FROM ({counts}) AS c JOIN provider ON provider.id = c.provider_id"
        # NULLS FIRST: SQLite's order for a provider known only by its domain, made
        # explicit so PostgreSQL (which sorts NULL last) gives the same answer.
        f" ORDER BY c.articles DESC, {q.text_order('provider.name')} ASC NULLS FIRST,"
        " provider.id"
    )


def _topic_counts(q: Sql, filters: Filters) -> str:
    """The hot question: an index-only scan of the topic's links."""
    count = "count(DISTINCT article_topic.article_id)" if len(filters.topics) > 1 else "count(*)"
    joined, topic_condition = topic_links(q, filters.topics)
    conditions = [topic_condition, *link_conditions(q, filters)]
    return (
        f"SELECT article_topic.provider_id AS provider_id, {count} AS articles,"
        " min(article_topic.published_at) AS first_published,"
        " max(article_topic.published_at) AS last_published"
        f" FROM {joined}{where(conditions)} GROUP BY article_topic.provider_id"
    )


def _with_related(q: Sql, filters: Filters, base: str, own: str) -> tuple[str, list[str]]:
    """FROM and conditions for the articles `base` selects and those they link to."""
    if filters.topics:
        # One list of ids, made distinct by GROUP BY (a sort) rather than by
        # UNION's B-tree, then joined to article in id order: 0.66 s instead of
        # 0.95 s for the most popular topic at a million articles.
        linked = (
            "SELECT related_link.related_article_id AS related_article_id FROM related_link"
            f" WHERE related_link.article_id IN ({topic_article_ids(q, filters)})"
        )
        ids = f"SELECT ids.article_id AS article_id FROM ({base} UNION ALL {linked}) AS ids"
        source = (
            f"article JOIN ({ids} GROUP BY ids.article_id) AS unique_ids"
            " ON article.id = unique_ids.article_id"
        )
        return source, []
    linked = (
        "SELECT related_link.related_article_id FROM related_link"
        f" WHERE related_link.article_id IN ({base})"
    )
    return "article", [f"({own} OR article.id IN ({linked}))"]


def providers_sql(q: Sql, filters: Filters, *, include_related: bool = False) -> str:
    """Providers by number of articles (own records) matching the filters; with
    `include_related`, the articles they link to as related count too."""
    if filters.topics and not include_related and not filters.needs_every_topic():
        return _by_provider(q, _topic_counts(q, filters))
    own = f"article.is_stub IS {q.false} AND article.removed_at IS NULL"
    if filters.topics:
        # Only own records have topics, so the topic's links are own articles.
        base = topic_article_ids(q, filters)
    else:
        base = f"SELECT article.id FROM article WHERE {own}"
    source, conditions = "article", []
    if include_related:
        source, conditions = _with_related(q, filters, base, own)
    elif filters.topics:
        conditions.append(f"article.id IN ({base})")
    else:
        conditions.append(own)
    conditions += date_conditions(q, filters) + provider_condition(q, filters)
    counts = (
        "SELECT article.provider_id AS provider_id, count(*) AS articles,"
        " min(article.published_at) AS first_published,"
        " max(article.published_at) AS last_published"
        f" FROM {source}{where(conditions)} GROUP BY article.provider_id"
    )
    return _by_provider(q, counts)


def providers(conn: Reader, filters: Filters, *, include_related: bool = False) -> Rows:
    """Providers by number of articles (own records) matching the filters.

    With `include_related`, articles that those articles link to as related count
    too (they may be known only from the related entries).
    """
    q = Sql(conn)
    return q.rows(providers_sql(q, filters, include_related=include_related))


def topics_sql(q: Sql, filters: Filters) -> str:
    """Topics by number of articles, optionally of some providers only."""
    source = "article_topic"
    conditions = []
    if filters.topics:
        source, topic_condition = topic_links(q, filters.topics)
        conditions.append(topic_condition)
    conditions += link_conditions(q, filters)
    counts = (
        "SELECT article_topic.topic_id AS topic_id, count(*) AS articles,"
        " min(article_topic.published_at) AS first_published,"
        " max(article_topic.published_at) AS last_published"
        f" FROM {source}{where(conditions)} GROUP BY article_topic.topic_id"
    )
    return (
        "SELECT topic.name, c.articles, c.first_published, c.last_published"
        f" FROM ({counts}) AS c JOIN topic ON topic.id = c.topic_id"
        f" ORDER BY c.articles DESC, {q.text_order('topic.name')}, topic.id"
    )


def topics(conn: Reader, filters: Filters) -> Rows:
    """Topics by number of articles, optionally of some providers only."""
    q = Sql(conn)
    return q.rows(topics_sql(q, filters))


def cooccur_sql(q: Sql, topic: Any, filters: Filters) -> str:
    """Topics on the same articles as `topic`: how many of its articles, and what
    share of them (of at least one article, so that no topic is 0/0)."""
    joined, topic_condition = topic_links(q, [topic])
    total = f"SELECT count(*) FROM {joined}{where([topic_condition, *link_conditions(q, filters)])}"
    mine_joined, mine_condition = topic_links(q, [topic], "mine")
    conditions = [
        mine_condition,
        "other.topic_id != mine.topic_id",
        *link_conditions(q, filters, "mine"),
    ]
    counts = (
        # (article_id, topic_id) is the primary key: count(*) counts distinct articles.
        "SELECT other.topic_id AS topic_id, count(*) AS articles"
        f" FROM {mine_joined}"
        " JOIN article_topic AS other ON other.article_id = mine.article_id"
        f"{where(conditions)} GROUP BY other.topic_id"
    )
    # An uncorrelated subquery: computed once, on both engines.
    share = f"CAST(c.articles AS DOUBLE PRECISION) / COALESCE(NULLIF(({total}), 0), 1)"
    return (
        f"SELECT topic.name, c.articles, {share} AS share"
        f" FROM ({counts}) AS c JOIN topic ON topic.id = c.topic_id"
        f" ORDER BY c.articles DESC, {q.text_order('topic.name')}, topic.id"
    )


def cooccur(conn: Reader, topic: str, filters: Filters) -> Rows:
    """Topics that appear on the same articles as `topic`, with counts."""
    q = Sql(conn)
    return q.rows(cooccur_sql(q, topic, filters))
