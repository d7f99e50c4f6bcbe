"""Counts by story: each group of copies (README: Stories) counted once.

The same questions as counts.py and timeline.py (providers, topics, timeline,
cooccur), over `article_story`. An article without a story row (an archive upgraded but not yet
clustered, or imported with --no-stories) counts as a story of its own, so these
answers equal the plain ones until stories exist. Also the stories themselves:
the largest, and why two articles are or are not one.
"""

from __future__ import annotations

from collections import Counter

from .. import identity
from ..errors import UsageError
from ..rows import Rows
from .conditions import date_conditions, link_conditions, provider_condition, topic_links
from .filters import Filters
from .one_article import find_article
from .reader import Reader
from .sql import Sql, where
from .timeline import check_period, day_counts, period_counts, share

# An article's story, or the article alone (negated, so it cannot clash with an id).
_STORY = "COALESCE(article_story.story_id, -{links}.article_id)"


def _links(q: Sql, filters: Filters) -> str:
    """(article_id, provider_id, published_at, story) of the matching own articles,
    each article once."""
    if filters.topics:
        joined, condition = topic_links(q, filters.topics)
        conditions = [condition, *link_conditions(q, filters)]
        story = _STORY.format(links="article_topic")
        return (
            "SELECT DISTINCT article_topic.article_id AS article_id,"
            " article_topic.provider_id AS provider_id,"
            f" article_topic.published_at AS published_at, {story} AS story"
            f" FROM {joined} LEFT JOIN article_story"
            f" ON article_story.article_id = article_topic.article_id{where(conditions)}"
        )
    conditions = [
        f"article.is_stub IS {q.false}",
        *date_conditions(q, filters),
        *provider_condition(q, filters),
    ]
    story = "COALESCE(article_story.story_id, -article.id)"
    return (
        "SELECT article.id AS article_id, article.provider_id AS provider_id,"
        f" article.published_at AS published_at, {story} AS story"
        " FROM article LEFT JOIN article_story ON article_story.article_id = article.id"
        f"{where(conditions)}"
    )


def providers_sql(q: Sql, filters: Filters) -> str:
    """Providers by number of stories they published (see providers)."""
    links = _links(q, filters)
    ranked = (
        "SELECT l.*, row_number() OVER (PARTITION BY l.story"
        " ORDER BY l.published_at IS NULL, l.published_at, l.article_id) AS rank"
        f" FROM ({links}) AS l"
    )
    counts = (
        "SELECT r.provider_id AS provider_id, count(DISTINCT r.story) AS stories,"
        " count(DISTINCT CASE WHEN r.rank = 1 THEN r.story END) AS first,"
        " min(r.published_at) AS first_published, max(r.published_at) AS last_published"
        f" FROM ({ranked}) AS r GROUP BY r.provider_id"
    )
    total = f"(SELECT count(DISTINCT t.story) FROM ({links}) AS t)"
    return (
        "SELECT provider.name, provider.domain, c.stories, c.first,"
        " c.stories - c.first AS copies, c.first_published, c.last_published,"
        f" CAST(c.stories AS DOUBLE PRECISION) / {total} AS share"
        f" FROM ({counts}) AS c JOIN provider ON provider.id = c.provider_id"
        f" ORDER BY c.stories DESC, {q.text_order('provider.name')} ASC NULLS FIRST, provider.id"
    )


def providers(conn: Reader, filters: Filters) -> Rows:
    """Providers by number of stories they published. `first`: the stories it published
    before any other provider in the answer did; `copies`: the others (it was not first)."""
    q = Sql(conn)
    return q.rows(providers_sql(q, filters))


def topics_sql(q: Sql, filters: Filters) -> str:
    """Topics by number of stories, optionally of some providers only."""
    source = "article_topic"
    conditions = []
    if filters.topics:
        source, topic_condition = topic_links(q, filters.topics)
        conditions.append(topic_condition)
    conditions += link_conditions(q, filters)
    story = _STORY.format(links="article_topic")
    counts = (
        f"SELECT article_topic.topic_id AS topic_id, count(DISTINCT {story}) AS stories,"
        " min(article_topic.published_at) AS first_published,"
        " max(article_topic.published_at) AS last_published"
        f" FROM {source} LEFT JOIN article_story"
        f" ON article_story.article_id = article_topic.article_id{where(conditions)}"
        " GROUP BY article_topic.topic_id"
    )
    return (
        "SELECT topic.name, c.stories, c.first_published, c.last_published"
        f" FROM ({counts}) AS c JOIN topic ON topic.id = c.topic_id"
        f" ORDER BY c.stories DESC, {q.text_order('topic.name')}, topic.id"
    )


def topics(conn: Reader, filters: Filters) -> Rows:
    """Topics by number of stories, optionally of some providers only."""
    q = Sql(conn)
    return q.rows(topics_sql(q, filters))


def cooccur(conn: Reader, topic: str, filters: Filters) -> Rows:
    """Topics that appear on the stories of `topic`, with the number of those stories."""
    q = Sql(conn)
    mine_filters = Filters([topic], filters.providers, filters.since, filters.until)
    mine = _links(q, mine_filters)
    total = q.scalar(f"SELECT count(DISTINCT m.story) FROM ({mine}) AS m") or 0
    q = Sql(conn)
    mine = _links(q, mine_filters)
    found = q.all(
        "SELECT topic.name, count(DISTINCT m.story) AS stories"
        f" FROM ({mine}) AS m JOIN article_topic AS other ON other.article_id = m.article_id"
        f" JOIN topic ON topic.id = other.topic_id WHERE topic.key != {q.bind(identity.topic_key(topic))}"
        f" GROUP BY topic.name ORDER BY stories DESC, {q.text_order('topic.name')}"
    )
    return Rows(
        ["name", "stories", "share"],
        ((name, stories, stories * 1.0 / (total or 1)) for name, stories in found),
    )


def timeline(conn: Reader, filters: Filters, *, by: str = "month") -> Rows:
    """Stories per period, each counted in the period of its first matching article,
    with the period's share of all stories that began in it."""
    check_period(by)
    selected = _story_days(conn, filters)
    everything = _story_days(conn, Filters((), (), filters.since, filters.until))
    return Rows(
        ["period", "stories", "all_stories", "share"],
        (
            (label, counts[0], total, share(counts[0], total))
            for label, total, counts in period_counts([selected], everything, by, filters)
        ),
        bar_column="stories",
    )


def _story_days(conn: Reader, filters: Filters) -> Counter:
    q = Sql(conn)
    links = _links(q, filters)
    return day_counts(
        q,
        "SELECT s.day, count(*) FROM (SELECT date(min(l.published_at)) AS day"
        f" FROM ({links}) AS l WHERE l.published_at IS NOT NULL GROUP BY l.story) AS s"
        " GROUP BY s.day",
    )


def largest_sql(q: Sql, filters: Filters) -> str:
    """Stories of more than one article, largest first: when, where first, and who."""
    members = (
        "FROM article_story s2 JOIN article a2 ON a2.id = s2.article_id"
        " JOIN provider p ON p.id = a2.provider_id WHERE s2.story_id = story.id"
    )
    if q.postgres:
        names = (
            "(SELECT string_agg(n.name, ', ' ORDER BY n.name COLLATE \"C\") FROM"
            f" (SELECT DISTINCT p.name AS name {members}) AS n)"
        )
    else:
        names = (
            "(SELECT group_concat(n.name, ', ') FROM"
            f" (SELECT DISTINCT p.name AS name {members} ORDER BY p.name) AS n)"
        )
    conditions = ["story.articles > 1"]
    if filters.topics or filters.providers or filters.since or filters.until:
        # Unfiltered, every story qualifies (stories are of own articles only): no
        # scan of every article to find that out.
        conditions.append(f"story.id IN (SELECT l.story FROM ({_links(q, filters)}) AS l)")
    return (
        "SELECT story.id AS story, story.articles, story.providers, story.first_published,"
        " origin.title, origin_provider.name AS first_provider,"
        f" {names} AS provider_names,"
        " origin.url"
        " FROM story JOIN article AS origin ON origin.id = story.origin_article_id"
        " LEFT JOIN provider AS origin_provider ON origin_provider.id = origin.provider_id"
        f"{where(conditions)} ORDER BY story.articles DESC, story.first_published, story.id"
    )


def largest(conn: Reader, filters: Filters) -> Rows:
    """Stories of more than one article, largest first: when, where first, and who."""
    q = Sql(conn)
    return q.rows(largest_sql(q, filters))


def unassigned(conn: Reader) -> int:
    """Own articles that have no story yet (an upgraded archive, --no-stories)."""
    q = Sql(conn)
    return (
        q.scalar(
            f"SELECT count(*) FROM article WHERE article.is_stub IS {q.false}"
            " AND NOT EXISTS (SELECT 1 FROM article_story s WHERE s.article_id = article.id)"
        )
        or 0
    )


def explain(conn: Reader, first_url: str, second_url: str) -> Rows:
    """Why two articles are or are not one story, as (field, value) rows."""
    from ..stories import minhash, rules

    ids = [find_article(conn, first_url), find_article(conn, second_url)]
    q = Sql(conn)
    found = {
        row[0]: row
        for row in q.all(
            "SELECT article.id, article.title, article.published_at, article_story.story_id,"
            " article_story.title_key, article_story.signature, article_story.shingles"
            " FROM article LEFT JOIN article_story ON article_story.article_id = article.id"
            f" WHERE article.id IN {q.bind_all(ids)}"
        )
    }
    fields: list[tuple[str, object]] = []
    features = []
    for label, article_id in zip(("a", "b"), ids, strict=True):
        _, title, published_at, story, key, signature, shingles = found[article_id]
        if story is None:
            raise UsageError(
                f"article {label} has no story yet: run `archive stories --missing` first"
            )
        fields += [
            (f"{label}_title", title),
            (f"{label}_title_key", key),
            (f"{label}_story", story),
        ]
        features.append(rules.Features(key, minhash.from_bytes(signature), shingles, published_at))
    verdict = rules.decide(*features)
    same_story = found[ids[0]][3] == found[ids[1]][3]
    fields += [
        ("text_similarity", round(verdict.similarity, 2)),
        (
            "title_overlap",
            round(rules.title_overlap(features[0].title_key, features[1].title_key), 2),
        ),
        ("indexed_together", rules.meet(*features)),
        ("rule", ("same story: " if verdict.same else "not the same: ") + verdict.reason),
        ("same_story_in_archive", same_story),
    ]
    if same_story and not verdict.same:
        fields.append(("note", "joined through other copies that each match one of them"))
    return Rows(["field", "value"], iter(fields), layout="vertical")
