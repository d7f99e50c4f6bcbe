"""WHERE conditions the questions share: by topic, provider and date.

Each takes the statement being written (sql.Sql) and binds the filter's values
as parameters; a CannedSql writes the same conditions for Datasette.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .filters import Filters
from .sql import Sql


def own_articles(q: Sql) -> str:
    """Own records whose file was not removed, written so that SQLite still answers
    from an index on (is_stub, published_at): removed_at is in no such index, and
    `removed_at IS NULL` made it read every row (10x slower for a month's totals at
    20,000 articles); the removed ones are few, found in removed_at's own index."""
    return (
        f"article.is_stub IS {q.false} AND article.id NOT IN"
        " (SELECT removed.id FROM article AS removed WHERE removed.removed_at IS NOT NULL)"
    )


def topic_links(q: Sql, topics: Sequence[Any], alias: str | None = None) -> tuple[str, str]:
    """FROM and WHERE for the links of some topics, written as a join from `topic`.

    As a join, SQLite looks the topic up first and then reads only its links from
    the (topic_id, ...) index; with `topic_id IN (SELECT ...)` it sometimes scans
    the whole provider-first index instead (100 ms instead of 0.5 ms for a rare topic
    at a million articles).
    """
    links = alias or "article_topic"
    named = f"article_topic AS {alias}" if alias else "article_topic"
    joined = f"{named} JOIN topic ON topic.id = {links}.topic_id"
    return joined, f"topic.key IN {q.topic_keys(topics)}"


def topic_article_ids(q: Sql, filters: Filters) -> str:
    """The ids of the articles with any of the filter's topics, or with every one of
    them (--all-topics): an article's link to a topic is unique, so an article with
    as many links among them as there are topics has them all."""
    if not filters.needs_every_topic():
        joined, condition = topic_links(q, filters.topics)
        return f"SELECT article_topic.article_id FROM {joined} WHERE {condition}"
    from .. import identity

    # Keys, not names: `AI` and `ai` are one topic, which an article has once.
    distinct = list({identity.topic_key(t): t for t in filters.topics}.values())
    joined, condition = topic_links(q, distinct)
    return (
        f"SELECT article_topic.article_id FROM {joined} WHERE {condition}"
        f" GROUP BY article_topic.article_id HAVING count(*) = {q.bind(len(distinct))}"
    )


def providers_with_keys(q: Sql, providers: Sequence[Any]) -> str:
    return f"SELECT provider.id FROM provider WHERE provider.key IN {q.provider_keys(providers)}"


def date_conditions(q: Sql, filters: Filters, table: str = "article") -> list[str]:
    conditions = []
    if filters.since is not None:
        conditions.append(f"{table}.published_at >= {q.bind_instant(filters.since)}")
    if filters.until is not None:
        conditions.append(f"{table}.published_at < {q.bind_instant(filters.until)}")
    return conditions


def provider_condition(q: Sql, filters: Filters) -> list[str]:
    if not filters.providers:
        return []
    return [f"article.provider_id IN ({providers_with_keys(q, filters.providers)})"]


def link_conditions(q: Sql, filters: Filters, links: str = "article_topic") -> list[str]:
    """Filters on article_topic's copies of the article's provider and time."""
    conditions = date_conditions(q, filters, links)
    if filters.providers:
        conditions.append(f"{links}.provider_id IN ({providers_with_keys(q, filters.providers)})")
    return conditions
