"""Assign articles to stories as they are written (README: Stories).

The writer calls `assign` once per batch with the articles whose own record the
batch wrote. Each is compared only with the articles that share one of its LSH band
keys or its normalized title (story_band, an indexed table), never with the whole
archive; the rules are archive/stories/rules.py. An article matching articles of
several stories joins them into one (the lowest id stays). An article whose record
changed leaves its story, and it and the rest of that story are assigned again, so
the stories are those the current records make (`archive stories --rebuild`
re-clusters the whole archive, e.g. after a threshold change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..store.columns import tables
from ..store.write_connection import Connection
from ..stories import minhash, prepared, rules
from .records import Record
from .transactions import begin_write
from .writer import Catalog, _Sql, select_in


@dataclass
class Written:
    """An article whose own record a batch wrote."""

    id: int
    title: str | None
    excerpt: str | None
    body: str | None
    published_at: dt.datetime | None
    provider_id: int | None
    new: bool
    prepared: prepared.Prepared | None = None


@dataclass
class _Member:
    id: int
    story: int
    features: rules.Features
    provider_id: int | None


def on_batch(conn: Connection, catalog: Catalog, plan_articles: Iterable[Any]) -> None:
    """The writer's hook (Catalog.on_written): stories for the batch's own records."""
    assign(conn, _provider_names(catalog), written_articles(plan_articles))


def prepare_records(results: Sequence[Any]) -> None:
    """Give each parsed Record of `results` its story features (in a parser process)."""
    records = [r for r in results if isinstance(r, Record)]
    done = prepared.prepare([
        (r.article.title, r.article.excerpt, r.body, _record_names(r.article.provider))
        for r in records
    ])  # fmt: skip
    for record, features in zip(records, done, strict=True):
        record.story = features


def _record_names(provider: Any) -> prepared.Names:
    # As _provider_names has them for the provider the writer makes of this one.
    return () if provider is None else (provider.name, provider.domain, provider.key)


def written_articles(plan_articles: Iterable[Any]) -> list[Written]:
    """The writer's article states whose own record the batch applied."""
    return [
        Written(
            s.id, s.row.get("title"), s.row.get("excerpt"), s.row.get("body"),
            s.row.get("published_at"), s.row.get("provider_id"), s.new, s.story,
        )
        for s in plan_articles
        if s.whole and not s.is_stub
    ]  # fmt: skip


# A key shared by COMMON stories marks common wording (a video series' standard
# opening, an agency's boilerplate), not a copy: it is neither searched nor indexed
# further, and copies still meet through the other bands, which their own words
# decide. A key holding PER_STORY articles of one story is not indexed further: the
# story is found through them. So a lookup reads at most COMMON * PER_STORY rows
# a key, whatever the archive's size.
COMMON = 16
PER_STORY = 4


def assign(
    conn: Connection, names: dict[int, tuple[str | None, ...]], articles: Sequence[Written]
) -> None:
    """Give each of `articles` its story, joining stories it shows to be one.

    `names`: each provider id's name, domain and key, which a title may end with.
    """
    if not articles:
        return
    sql = _Sql(conn)
    left = _leave(sql, [a.id for a in articles if not a.new])
    if left:
        # The rest of each story that a re-written article left is assigned again with
        # it, in id order as a fresh import would: stories are then what the current
        # records make, whatever their history (dump and import again give the same).
        batch_ids = {a.id for a in articles}
        others = [i for i, _story, _at, _p in _story_members(sql, sorted(left))]
        others = [i for i in others if i not in batch_ids]
        _leave(sql, others)
        articles = sorted([*articles, *_stored_articles(conn, others)], key=lambda a: a.id)
    batch, keys = _features(articles, names)
    stories = _Stories(sql.max_id(tables.story))
    buckets = _Buckets(sql, keys, stories)
    members: list[_Member] = []
    indexed: dict[int, list[tuple[int, int]]] = {}
    for article, features in zip(articles, batch, strict=True):
        candidates = buckets.candidates(keys[article.id])
        close = rules.plausible(features, [m.features for m in candidates])
        by_features = {id(m.features): m for m in candidates}
        matched = [
            by_features[id(other)].story
            for other, similarity in close
            if rules.decide(features, other, similarity).same
        ]
        member = _Member(article.id, stories.join(matched), features, article.provider_id)
        members.append(member)
        indexed[article.id] = buckets.add(member, keys[article.id])
    stories.write(sql, members, indexed, left)


class _Buckets:
    """The index entries a batch reads and adds: articles and their stories, by key."""

    def __init__(
        self, sql: _Sql, keys: dict[int, list[tuple[int, int]]], stories: _Stories
    ) -> None:
        self.stories = stories
        self.owners: dict[int, list[int]] = {}
        self.held: dict[int, dict[int, int]] = {}  # key -> articles per story under it
        for key, article_id, story in sql.select_in(
            "SELECT b.key, b.article_id, s.story_id FROM story_band b"
            " JOIN article_story s ON s.article_id = b.article_id WHERE b.key IN ({marks})",
            [key for pairs in keys.values() for key, _ in pairs],
        ):
            self.owners.setdefault(key, []).append(article_id)
            held = self.held.setdefault(key, {})
            held[story] = held.get(story, 0) + 1
        wanted = {a for key, found in self.owners.items() if not self._common(key) for a in found}
        self.members = {m.id: m for m in load_members(sql.conn, wanted)}

    def _common(self, key: int) -> bool:
        held = self.held.get(key)
        return held is not None and len(held) >= COMMON

    def candidates(self, pairs: list[tuple[int, int]]) -> list[_Member]:
        found: dict[int, _Member] = {}
        for key, _band in pairs:
            if not self._common(key):
                for article_id in self.owners.get(key, ()):
                    found[article_id] = self.members[article_id]
        return list(found.values())

    def add(self, member: _Member, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The keys to index `member` under (not those of common wording, nor those
        that hold enough of its story already). Story ids are as found: a story this
        batch merges into another counts apart, which only indexes a few more rows."""
        added = []
        story = member.story
        for pair in pairs:
            key = pair[0]
            held = self.held.get(key)
            if held is None:  # most keys: no article has them yet
                self.held[key] = {story: 1}
                self.owners[key] = [member.id]
            else:
                count = held.get(story, 0)
                if len(held) >= COMMON or count >= PER_STORY:
                    continue
                held[story] = count + 1
                self.owners.setdefault(key, []).append(member.id)
            added.append(pair)
        if added:
            self.members[member.id] = member
        return added


def _provider_names(catalog: Catalog) -> dict[int, tuple[str | None, ...]]:
    return {p.id: (p.name, p.domain, key) for key, p in catalog.providers.items()}


def _features(
    articles: Sequence[Written], names: dict[int, tuple[str | None, ...]]
) -> tuple[list[rules.Features], dict[int, list[tuple[int, int]]]]:
    """Each article's features and index keys: those a parser process made, when made
    from the article's text and provider names; else made here."""
    made: list[prepared.Prepared | None] = []
    missing = []
    for a in articles:
        own = names.get(a.provider_id, ()) if a.provider_id is not None else ()
        ready = a.prepared
        if ready is None or not ready.matches(a.title, a.excerpt, a.body, own):
            missing.append((a.title, a.excerpt, a.body, own))
            ready = None
        made.append(ready)
    computed = iter(prepared.prepare(missing))
    done = [ready or next(computed) for ready in made]
    signatures = prepared.signatures(done)
    features = [
        rules.Features(p.title_key, signatures[index], p.shingles, a.published_at)
        for index, (p, a) in enumerate(zip(done, articles, strict=True))
    ]
    return features, {a.id: p.keys for a, p in zip(articles, done, strict=True)}


def _leave(sql: _Sql, ids: list[int]) -> set[int]:
    """Take re-written articles out of their stories; the stories they were in."""
    if not ids:
        return set()
    stories, bands = set(), []
    for article_id, story, title_key, signature in sql.select_in(
        "SELECT article_id, story_id, title_key, signature FROM article_story"
        " WHERE article_id IN ({marks})",
        ids,
    ):
        stories.add(story)
        # story_band has no index on article_id (models.StoryBand): an article's rows
        # are those of the keys its stored features give.
        features = rules.Features(title_key, minhash.from_bytes(signature), 0, None)
        bands += [(key, article_id) for key, _band in rules.index_keys(features)]
    if bands:
        sql.conn.exec_driver_sql(
            f"DELETE FROM story_band WHERE key = {sql.mark} AND article_id = {sql.mark}", bands
        )
    sql.delete_where_in(tables.article_story, "article_id", ids)
    return stories


def load_members(conn: Connection, ids: Iterable[int]) -> list[_Member]:
    rows = select_in(
        conn,
        "SELECT s.article_id, s.story_id, s.title_key, s.signature, s.shingles,"
        " a.published_at, a.provider_id FROM article_story s JOIN article a ON a.id = s.article_id"
        " WHERE s.article_id IN ({marks})",
        ids,
    )
    return [
        _Member(
            article_id,
            story,
            rules.Features(key, minhash.from_bytes(signature), shingles, instant(at)),
            provider,
        )
        for article_id, story, key, signature, shingles, at, provider in rows
    ]


def instant(value: Any) -> dt.datetime | None:
    """A stored timestamp (SQLite's ISO text, or a datetime) as an aware datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).rstrip("Z")).replace(tzinfo=dt.timezone.utc)


class _Stories:
    """Story ids as a batch hands them out and joins them (union-find)."""

    def __init__(self, last_id: int) -> None:
        self.next_id = last_id
        self.parent: dict[int, int] = {}
        self.created: set[int] = set()

    def find(self, story: int) -> int:
        while self.parent.get(story, story) != story:
            story = self.parent[story]
        return story

    def join(self, stories: list[int]) -> int:
        roots = sorted({self.find(s) for s in stories})
        if not roots:
            self.next_id += 1
            self.created.add(self.next_id)
            return self.next_id
        for other in roots[1:]:
            self.parent[other] = roots[0]
        return roots[0]

    def write(
        self,
        sql: _Sql,
        members: list[_Member],
        keys: dict[int, list[tuple[int, int]]],
        left: set[int],
    ) -> None:
        for member in members:
            member.story = self.find(member.story)
        merged = {s for s in self.parent if self.find(s) != s}
        touched = {self.find(s) for s in left | merged} | {m.story for m in members}
        archived = [s for s in touched | merged | left if s not in self.created]
        stored = _story_members(sql, archived)
        everyone = {m[0]: (self.find(m[1]), m[2], m[3]) for m in stored}
        for m in members:
            everyone[m.id] = (m.story, m.features.published_at, m.provider_id)
        rows = _aggregates(everyone)
        new_rows = [r for r in rows if r[0] in self.created]
        sql.insert(tables.story, _STORY_COLUMNS, new_rows)
        sql.update(
            tables.story,
            _STORY_COLUMNS[1:],
            [(*r[1:], r[0]) for r in rows if r[0] not in self.created],
        )
        for old in merged - self.created:
            sql.conn.exec_driver_sql(
                f"UPDATE article_story SET story_id = {sql.mark} WHERE story_id = {sql.mark}",
                (self.find(old), old),
            )
        sql.insert(
            tables.article_story,
            ["article_id", "story_id", "title_key", "signature", "shingles"],
            [
                (
                    m.id,
                    m.story,
                    m.features.title_key,
                    minhash.to_bytes(m.features.signature),
                    m.features.shingles,
                )
                for m in members
            ],
        )
        sql.insert(
            tables.story_band,
            ["key", "article_id", "band"],
            [(key, m.id, band) for m in members for key, band in keys[m.id]],
        )
        alive = {story for story, *_ in rows}
        gone = [s for s in (merged | left) - alive if s not in self.created]
        sql.delete_where_in(tables.story, "id", gone)


_STORY_COLUMNS = ["id", "origin_article_id", "articles", "providers", "first_published"]


def _story_members(sql: _Sql, stories: list[int]) -> list[tuple]:
    return [
        (article_id, story, instant(at), provider)
        for article_id, story, at, provider in sql.select_in(
            "SELECT s.article_id, s.story_id, a.published_at, a.provider_id"
            " FROM article_story s JOIN article a ON a.id = s.article_id"
            " WHERE s.story_id IN ({marks})",
            stories,
        )
    ]


_LATEST = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def _aggregates(everyone: dict[int, tuple]) -> list[tuple]:
    """A story row per story: its origin (earliest published, then lowest id), counts."""
    grouped: dict[int, list[tuple]] = {}
    for article_id, (story, at, provider) in everyone.items():
        grouped.setdefault(story, []).append((at or _LATEST, article_id, provider, at))
    rows = []
    for story, found in sorted(grouped.items()):
        found.sort()
        providers = {p for *_, p, _at in found if p is not None}
        rows.append((story, found[0][1], len(found), len(providers), found[0][3]))
    return rows


# --- re-clustering ---------------------------------------------------------------

REBUILD_CHUNK = 2000


def clear(conn: Connection) -> None:
    """Forget every story (before a rebuild with other thresholds)."""
    for table in ("story_band", "article_story", "story"):
        conn.exec_driver_sql(f"DELETE FROM {table}")


def assign_next_missing(conn: Connection, limit: int = REBUILD_CHUNK) -> int:
    """Assign up to `limit` own articles that have no story yet, oldest id first;
    how many. Called in a loop, one transaction each, it is resumable: what was
    committed stays assigned, and the next call goes on from there."""
    sql = _Sql(conn)
    rows = conn.exec_driver_sql(
        f"{_ARTICLE_FIELDS} WHERE a.is_stub = {sql.mark} AND NOT EXISTS"
        " (SELECT 1 FROM article_story s WHERE s.article_id = a.id)"
        f" ORDER BY a.id LIMIT {int(limit)}",
        (False,),
    ).all()
    if not rows:
        return 0
    names = {
        pid: (name, domain, key)
        for pid, key, name, domain in conn.exec_driver_sql(
            "SELECT id, key, name, domain FROM provider"
        ).all()
    }
    articles = _written(rows)
    assign(conn, names, articles)
    return len(articles)


_ARTICLE_FIELDS = (
    "SELECT a.id, a.title, a.excerpt, a.body, a.published_at, a.provider_id FROM article a"
)


def _written(rows: Iterable[Sequence[Any]]) -> list[Written]:
    return [
        Written(i, title, excerpt, body, instant(at), provider, new=True)
        for i, title, excerpt, body, at, provider in rows
    ]


def _stored_articles(conn: Connection, ids: list[int]) -> list[Written]:
    """Articles as the archive holds them, to be assigned again."""
    return _written(select_in(conn, f"{_ARTICLE_FIELDS} WHERE a.id IN ({{marks}})", ids))


def recluster(archive: Any, *, rebuild: bool) -> int:
    """Assign stories to every own article without one (after an upgrade, imports with
    --no-stories, or an interrupted run); with `rebuild`, to every article afresh.
    One transaction per chunk: an interrupted run keeps what it committed, and
    running with rebuild=False finishes it. How many articles were assigned."""
    done = 0
    with archive.writer() as conn:
        if rebuild:
            with begin_write(conn):
                clear(conn)
        while True:
            with begin_write(conn):
                count = assign_next_missing(conn)
            if not count:
                return done
            done += count
