"""Write batches of parsed records into the normalized tables, with a few bulk statements.

Per batch, the rows already in the archive that the batch touches (articles by URL
key, images by URL) are read with one query each; the records are then applied in
order to a plan in memory (ids handed out from the tables' current maximum, which
is safe because a writer holds SQLite's write lock for the whole transaction), and
the plan is written with one `executemany` per table. That is what makes import
fast. The rules (own record wins, first related entry wins, fill what is empty)
are decided in ingest/merge.py; `_Plan` applies its answers to rows.

The statements are plain SQL in the driver's parameter style (statements.py), on a
plain DB-API connection (store/write_connection.py): writing loads neither
SQLAlchemy nor the models.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..record_format import ARTICLE_COLUMNS
from ..store.columns import tables
from ..store.write_connection import Connection
from . import merge
from .merge import RelatedEffect
from .plan_rows import (
    ImageLink,
    ProviderEntry,
    ProviderRow,
    RelatedLink,
    SourceRow,
    TopicLink,
    TopicRow,
)
from .records import Article, Image, Provider, Record
from .statements import Statements, chunks, placeholder, select_in

# stories.py and versions.py write through the same statements.
_Sql = Statements
__all__ = ["Catalog", "FileOutcome", "Version", "placeholder", "select_in", "write_batch"]

# Article columns that what a record says about an article fills (the rest: id,
# body, is_stub, source_file_id, which say where the row came from).
_FILLABLE = (*ARTICLE_COLUMNS, "provider_id", "extra")
# What a record says about an image or a provider (the rest: its id and its key).
_IMAGE_COLUMNS = tuple(c for c in tables.image.columns if c not in ("id", "url"))
_PROVIDER_FILLABLE = tuple(c for c in tables.provider.columns if c not in ("id", "key"))
_article_fields = operator.attrgetter(*ARTICLE_COLUMNS)


@dataclass
class FileOutcome:
    """What one record did to the archive, for the import summary."""

    articles: int = 0
    images: int = 0
    providers: int = 0
    topics: int = 0
    # Another file (path) that describes the same article and whose record it showed
    # until this one: both files stay in the archive, this one's record is shown.
    merged_with: str | None = None


@dataclass(frozen=True)
class Version:
    """Where a record's file is, and what this content is to it (ingest/changes.py)."""

    collection_id: int | None = None
    rel_path: str | None = None
    status: str = "new"  # new, updated (the file had versions) or copy
    # The article the file's last version described: it follows the file's address.
    previous_article: int | None = None
    commit_id: str | None = None
    committed_at: dt.datetime | None = None


def _identity(collection_id: int | None, rel_path: str | None) -> tuple[int, str] | None:
    return None if collection_id is None or rel_path is None else (collection_id, rel_path)


class Catalog:
    """Providers and topics by key, kept across batches (there are few of them)."""

    def __init__(self) -> None:
        self.providers: dict[str, ProviderEntry] = {}
        self.topics: dict[str, int] = {}
        self._seen: tuple[int, int] | None = None
        # Called with each batch's article states after they are written: the
        # importer sets ingest/stories.on_batch here (None: import without stories).
        self.on_written: Callable[[Connection, Catalog, Iterable[Any]], None] | None = None

    def refresh(self, sql: _Sql) -> None:
        """Reload when another writer added rows since we last looked."""
        seen = (sql.max_id(tables.provider), sql.max_id(tables.topic))
        if seen == self._seen:
            return
        rows = sql.conn.exec_driver_sql(
            "SELECT key, id, name, domain, extra IS NOT NULL FROM provider"
        ).all()
        self.providers = {
            key: ProviderEntry(pid, name, domain, True if extra else None)
            for key, pid, name, domain, extra in rows
        }
        self.topics = dict(sql.conn.exec_driver_sql("SELECT key, id FROM topic").all())
        self._seen = seen

    def forget(self) -> None:
        self._seen = None


@dataclass
class _Ids:
    article: int
    image: int
    source: int
    provider: int
    topic: int

    @classmethod
    def after(cls, sql: _Sql) -> _Ids:
        """Ids after the tables' current maximum (the writer holds the write lock)."""
        return cls(
            article=sql.max_id(tables.article),
            image=sql.max_id(tables.image),
            source=sql.max_id(tables.source),
            provider=sql.max_id(tables.provider),
            topic=sql.max_id(tables.topic),
        )

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


@dataclass
class _ArticleState:
    """An article the batch touches, and what it will write to its row."""

    id: int
    is_stub: bool
    new: bool  # inserted by this batch
    # The row's columns as far as the batch knows them: the whole row for an article
    # the batch inserts or whose own record it applies (`whole`); for a stub already
    # in the archive only its empty columns, as the others cannot change.
    row: dict[str, Any] = field(default_factory=dict)
    whole: bool = False
    # An archived stub's columns that related entries in this batch filled.
    filled: set[str] = field(default_factory=set)
    has_images: bool | None = None
    # The path of the file whose record the row shows (None for a stub).
    source_path: str | None = None
    # That file's identity (collection_id, rel_path); None before revision 0007.
    source_file: tuple[int, str] | None = None
    # The record's story features from a parser process, if any (ingest/stories.py).
    story: Any = None


@dataclass
class _ImageState:
    id: int
    new: bool
    values: dict[str, Any]
    dirty: bool = False


class _Shared:
    """The providers, topics and images a batch names: known ones (the catalog, the
    archive's rows the batch read) and the rows the batch adds or fills."""

    def __init__(self, catalog: Catalog, ids: _Ids) -> None:
        self.catalog = catalog
        self.ids = ids
        self.images: dict[str, _ImageState] = {}
        self.new_providers: list[ProviderRow] = []
        self.filled_providers: dict[int, dict[str, Any]] = {}
        self.new_topics: list[TopicRow] = []

    def provider_id(self, provider: Provider | None, outcome: FileOutcome) -> int | None:
        if provider is None:
            return None
        extra = provider.extra or None
        known = self.catalog.providers.get(provider.key)
        if known is None:
            provider_id = self.ids.next("provider")
            self.catalog.providers[provider.key] = ProviderEntry(
                provider_id, provider.name, provider.domain, True if extra else None
            )
            self.new_providers.append(
                ProviderRow(provider_id, provider.key, provider.name, provider.domain, extra)
            )
            outcome.providers += 1
            return provider_id
        if (
            (known.name is not None or provider.name is None)
            and (known.domain is not None or provider.domain is None)
            and (known.has_extra is not None or extra is None)
        ):
            return known.id  # nothing left for this record to fill (most records)
        filled = merge.fill_empty(
            {"name": known.name, "domain": known.domain, "extra": known.has_extra},
            {"name": provider.name, "domain": provider.domain, "extra": extra},
        )
        if filled:
            known.name = filled.get("name", known.name)
            known.domain = filled.get("domain", known.domain)
            if "extra" in filled:
                known.has_extra = True
            self.filled_providers.setdefault(known.id, {}).update(filled)
        return known.id

    def topic_links(
        self, article_id: int, row: dict[str, Any], names: list[str], outcome: FileOutcome
    ) -> list[TopicLink]:
        links: list[TopicLink] = []
        provider_id, published_at = row["provider_id"], row["published_at"]
        for position, (key, name) in enumerate(merge.unique_topics(names)):
            topic_id = self.catalog.topics.get(key)
            if topic_id is None:
                topic_id = self.ids.next("topic")
                self.catalog.topics[key] = topic_id
                self.new_topics.append(TopicRow(topic_id, key, name))
                outcome.topics += 1
            links.append(TopicLink(article_id, topic_id, position, provider_id, published_at))
        return links

    def image_links(
        self, article_id: int, images: list[Image], outcome: FileOutcome
    ) -> list[ImageLink]:
        links = []
        for position, image in enumerate(images):
            offered = {
                "width": image.width,
                "height": image.height,
                "is_cached": image.is_cached,
                "extra": image.extra or None,
            }
            state = self.images.get(image.url)
            if state is None:
                state = _ImageState(self.ids.next("image"), new=True, values=offered)
                self.images[image.url] = state
                outcome.images += 1
            else:
                filled = merge.fill_empty(state.values, offered)
                if filled:
                    state.values.update(filled)
                    state.dirty = True
            links.append(ImageLink(article_id, position, state.id))
        return links

    def write(self, sql: _Sql) -> None:
        sql.insert(tables.provider, ProviderRow._fields, self.new_providers)
        sql.update(
            tables.provider,
            _PROVIDER_FILLABLE,
            [
                (*(fills.get(name) for name in _PROVIDER_FILLABLE), provider_id)
                for provider_id, fills in self.filled_providers.items()
            ],
            fill=True,
        )
        sql.insert(tables.topic, TopicRow._fields, self.new_topics)
        new_images, filled_images = [], []
        for url, state in self.images.items():
            values = [state.values[name] for name in _IMAGE_COLUMNS]
            if state.new:
                new_images.append((state.id, url, *values))
            elif state.dirty:
                filled_images.append((*values, state.id))
        sql.insert(tables.image, ["id", "url", *_IMAGE_COLUMNS], new_images)
        sql.update(tables.image, _IMAGE_COLUMNS, filled_images, fill=True)


class _Plan:
    """A batch of records applied in memory (read by _prefetch, written by _flush)."""

    def __init__(self, sql: _Sql, catalog: Catalog) -> None:
        self.sql = sql
        self.ids = _Ids.after(sql)
        self.shared = _Shared(catalog, self.ids)
        self.now = dt.datetime.now(dt.timezone.utc)
        self.sources: list[SourceRow] = []
        self.articles: dict[int, _ArticleState] = {}
        self.url_keys: dict[str, int] = {}
        self.new_url_keys: list[tuple[str, int]] = []
        # Addresses an article had before its file changed them (article_url.alias),
        # those this batch gives to another article, and each re-applied article's
        # current keys (its others become aliases).
        self.aliases: set[str] = set()
        self.moved_keys: list[tuple[int, str]] = []
        self.current_keys: dict[int, list[str]] = {}
        self.file_articles: dict[tuple[int, str], int] = {}
        self.topic_links: dict[int, list[TopicLink]] = {}
        self.image_links: dict[int, list[ImageLink]] = {}
        self.related_links: dict[int, list[RelatedLink]] = {}
        self.replaced: set[int] = set()  # old articles whose links this batch rewrites
        self.orphan_candidates: set[int] = set()

    def known(self, article_id: int, is_stub: bool, path: str | None, file: Any) -> None:
        """An article already in the archive that the batch touches."""
        if article_id not in self.articles:
            self.articles[article_id] = _ArticleState(
                article_id, bool(is_stub), new=False, source_path=path, source_file=file
            )

    # --- applying records ---------------------------------------------------------

    def add(self, record: Record, version: Version) -> FileOutcome:
        outcome = FileOutcome()
        source_id = self.ids.next("source")
        own = record.article
        row = self._row(own, outcome)
        row.update(
            body=record.body,
            extra=own.extra or None,
            is_stub=False,
            source_file_id=source_id,
            removed_at=None,
        )
        identity = _identity(version.collection_id, version.rel_path)
        # A file seen earlier in this batch: the article its last version went to.
        previous = self.file_articles.get(identity, version.previous_article)
        state = self._find_own(own.url_keys, previous, record.source, identity)
        if state is None:
            state = self._new_article(row, outcome)
        else:
            self._replace(state, row, record.source, identity, outcome)
        state.source_path, state.source_file = record.source, identity
        state.story = record.story
        if identity is not None:
            self.file_articles[identity] = state.id
        row["id"] = state.id
        self.sources.append(
            SourceRow(
                source_id, record.source, record.sha256, record.size, self.now, version.status,
                record.text, state.id, version.collection_id, version.rel_path,
                version.commit_id, version.committed_at,
            )
        )  # fmt: skip
        if not state.new:
            self.current_keys[state.id] = own.url_keys
        self._claim_own(state.id, own.url_keys)
        self.topic_links[state.id] = self.shared.topic_links(state.id, row, record.topics, outcome)
        self.image_links[state.id] = self.shared.image_links(state.id, own.images, outcome)
        self.related_links[state.id] = [
            RelatedLink(state.id, position, self._related(entry, source_id, outcome))
            for position, entry in enumerate(record.related)
        ]
        return outcome

    def _replace(
        self,
        state: _ArticleState,
        row: dict[str, Any],
        path: str,
        identity: tuple[int, str] | None,
        outcome: FileOutcome,
    ) -> None:
        """The own record is the authority: its row replaces what the batch had."""
        same_file = state.source_path == path or (
            identity is not None and state.source_file == identity
        )
        if not state.is_stub and not same_file:
            outcome.merged_with = state.source_path
        self._forget_links(state.id)
        if not state.new:
            self.replaced.add(state.id)
        state.row, state.whole, state.is_stub, state.filled = row, True, False, set()

    def _forget_links(self, article_id: int) -> None:
        """A new own record replaces the links an earlier record gave the article."""
        for links in (self.topic_links, self.image_links):
            links.pop(article_id, None)
        for link in self.related_links.pop(article_id, []):
            self.orphan_candidates.add(link.related_article_id)

    def _row(self, article: Article, outcome: FileOutcome) -> dict[str, Any]:
        row = dict(zip(ARTICLE_COLUMNS, _article_fields(article), strict=True))
        row["provider_id"] = self.shared.provider_id(article.provider, outcome)
        return row

    def _find_own(
        self,
        keys: list[str],
        previous: int | None,
        path: str,
        identity: tuple[int, str] | None,
    ) -> _ArticleState | None:
        """The article an own record describes: the one its addresses name; else the
        one its file described before, whose address the file changed (it follows
        the file). An old address (an alias) of another article does not count: the
        record claims it."""
        for key in keys:
            article_id = self.url_keys.get(key)
            if article_id is not None and key not in self.aliases:
                return self.articles[article_id]
        before = self.articles.get(previous) if previous is not None else None
        if before is None or before.is_stub:
            return None
        if before.source_path == path or (identity is not None and before.source_file == identity):
            return before
        return None

    def _claim_own(self, article_id: int, keys: list[str]) -> None:
        """An own record's addresses: new ones added, aliases taken over."""
        for key in keys:
            if key in self.aliases:
                self.aliases.discard(key)
                self.moved_keys.append((article_id, key))
                self.url_keys[key] = article_id
        self._claim(article_id, keys)

    def _find(self, keys: list[str]) -> _ArticleState | None:
        for key in keys:  # the webUrl's key first: it is the article's identity
            article_id = self.url_keys.get(key)
            if article_id is not None:
                return self.articles[article_id]
        return None

    def _new_article(self, row: dict[str, Any], outcome: FileOutcome) -> _ArticleState:
        state = _ArticleState(
            self.ids.next("article"), is_stub=row["is_stub"], new=True, row=row, whole=True
        )
        row["id"] = state.id
        self.articles[state.id] = state
        outcome.articles += 1
        return state

    def _claim(self, article_id: int, keys: list[str]) -> None:
        for key in keys:
            if key not in self.url_keys:
                self.url_keys[key] = article_id
                self.new_url_keys.append((key, article_id))

    def _related(self, entry: Article, source_id: int, outcome: FileOutcome) -> int:
        state = self._find(entry.url_keys)
        effect = merge.related_effect(None if state is None else state.is_stub)
        if effect is RelatedEffect.CREATE_STUB:
            row = self._row(entry, outcome)
            row.update(
                body=None,
                extra=entry.extra or None,
                is_stub=True,
                source_file_id=source_id,
                removed_at=None,
            )
            state = self._new_article(row, outcome)
            state.has_images = bool(entry.images)
            self._claim(state.id, entry.url_keys)
            self.image_links[state.id] = self.shared.image_links(state.id, entry.images, outcome)
            return state.id
        assert state is not None
        if effect is RelatedEffect.FILL_STUB:
            offered = self._row(entry, outcome)
            offered["extra"] = entry.extra or None
            filled = merge.fill_empty(state.row, offered)
            state.row.update(filled)
            if not state.whole:
                state.filled.update(filled)
            self._claim(state.id, entry.url_keys)
            if merge.takes_images(bool(state.has_images), entry.images):
                state.has_images = True
                self.image_links[state.id] = self.shared.image_links(
                    state.id, entry.images, outcome
                )
        return state.id


# --- reading what the batch touches -----------------------------------------------


def _prefetch(plan: _Plan, records: list[Record], previous: Iterable[int]) -> None:
    keys: list[str] = []
    image_urls: list[str] = []
    for record in records:
        for entry in (record.article, *record.related):
            keys += entry.url_keys
            image_urls += [image.url for image in entry.images]
    for key, article_id, is_stub, path, collection_id, rel_path, alias in plan.sql.select_in(
        "SELECT u.url_key, a.id, a.is_stub, s.path, s.collection_id, s.rel_path, u.alias"
        " FROM article_url u JOIN article a ON a.id = u.article_id"
        " LEFT JOIN source_file s ON s.id = a.source_file_id AND NOT a.is_stub"
        " WHERE u.url_key IN ({marks})",
        keys,
    ):
        plan.url_keys[key] = article_id
        if alias:
            plan.aliases.add(key)
        plan.known(article_id, is_stub, path, _identity(collection_id, rel_path))
    for url, image_id, *values in plan.sql.select_in(
        f"SELECT url, id, {', '.join(_IMAGE_COLUMNS)} FROM image WHERE url IN ({{marks}})",
        image_urls,
    ):
        plan.shared.images[url] = _ImageState(
            image_id, new=False, values=dict(zip(_IMAGE_COLUMNS, values, strict=True))
        )
    _prefetch_stubs(plan)
    # The articles files described before this batch (which follow their files).
    for article_id, is_stub, path, collection_id, rel_path in plan.sql.select_in(
        "SELECT a.id, a.is_stub, s.path, s.collection_id, s.rel_path FROM article a"
        " LEFT JOIN source_file s ON s.id = a.source_file_id AND NOT a.is_stub"
        " WHERE a.id IN ({marks})",
        [i for i in previous if i not in plan.articles],
    ):
        plan.known(article_id, is_stub, path, _identity(collection_id, rel_path))


def _prefetch_stubs(plan: _Plan) -> None:
    stubs = [a.id for a in plan.articles.values() if a.is_stub]
    with_images = {
        row[0]
        for row in plan.sql.select_in(
            "SELECT DISTINCT article_id FROM article_image WHERE article_id IN ({marks})", stubs
        )
    }
    for article_id in stubs:
        plan.articles[article_id].has_images = article_id in with_images
    # Knowing which of a stub's fields are still empty keeps the many related
    # entries that repeat what it already says from becoming UPDATEs (each of
    # which would also re-index the stub's text for search).
    for article_id, *values in plan.sql.select_in(
        f"SELECT id, {', '.join(_FILLABLE)} FROM article WHERE id IN ({{marks}})", stubs
    ):
        plan.articles[article_id].row = {
            name: None for name, value in zip(_FILLABLE, values, strict=True) if value is None
        }


# --- writing ----------------------------------------------------------------------


def _flush(plan: _Plan) -> None:
    sql = plan.sql
    sql.insert(tables.source, SourceRow._fields, plan.sources)
    plan.shared.write(sql)
    _write_articles(plan)
    sql.insert(tables.article_url, ["url_key", "article_id"], plan.new_url_keys)
    _write_aliases(plan)
    if plan.replaced:
        old_targets = sql.select_in(
            "SELECT related_article_id FROM related_link WHERE article_id IN ({marks})",
            plan.replaced,
        )
        plan.orphan_candidates.update(target for (target,) in old_targets)
        for table in (tables.article_topic, tables.article_image, tables.related):
            sql.delete_where_in(table, "article_id", sorted(plan.replaced))
    for table, links, row_type in (
        (tables.article_topic, plan.topic_links, TopicLink),
        (tables.article_image, plan.image_links, ImageLink),
        (tables.related, plan.related_links, RelatedLink),
    ):
        sql.insert(table, row_type._fields, [row for rows in links.values() for row in rows])
    _drop_orphan_stubs(plan)


def _write_articles(plan: _Plan) -> None:
    sql = plan.sql
    columns = sql.columns(tables.article)
    values = operator.itemgetter(*columns)
    new_rows, full_updates = [], []
    fills: dict[tuple[str, ...], list[list[Any]]] = {}
    for state in plan.articles.values():
        if state.new:
            new_rows.append(values(state.row))
        elif state.whole:
            full_updates.append((*values(state.row)[1:], state.id))
        elif state.filled:
            # Only the filled columns, so filling a stub's heat does not re-index its text.
            names = tuple(name for name in _FILLABLE if name in state.filled)
            fills.setdefault(names, []).append([state.row[n] for n in names] + [state.id])
    sql.insert_multirow(tables.article, columns, new_rows)
    for names, rows in fills.items():
        sql.update(tables.article, names, rows, fill=True)
    sql.update(tables.article, columns[1:], full_updates)


def _write_aliases(plan: _Plan) -> None:
    """A re-applied record's article keeps its addresses that the record no longer
    gives, as aliases; an alias another record claimed moves to its article."""
    sql = plan.sql
    mark = sql.mark
    for chunk in chunks(sorted(plan.current_keys)):
        sql.conn.exec_driver_sql(
            f"UPDATE article_url SET alias = {mark} WHERE article_id IN"
            f" ({', '.join([mark] * len(chunk))})",
            (True, *chunk),
        )
    current = [
        (False, key, article_id) for article_id, keys in plan.current_keys.items() for key in keys
    ] + [(False, key, article_id) for article_id, key in plan.moved_keys]
    if plan.moved_keys:
        sql.conn.exec_driver_sql(
            f"UPDATE article_url SET article_id = {mark} WHERE url_key = {mark}",
            [(article_id, key) for article_id, key in plan.moved_keys],
        )
    if current:
        sql.conn.exec_driver_sql(
            f"UPDATE article_url SET alias = {mark} WHERE url_key = {mark} AND article_id = {mark}",
            current,
        )


def _drop_orphan_stubs(plan: _Plan) -> None:
    """Stubs that a replaced record named and that nothing names any more."""
    mark = plan.sql.mark
    for chunk in chunks(sorted(plan.orphan_candidates)):
        plan.sql.conn.exec_driver_sql(
            f"DELETE FROM article WHERE id IN ({', '.join([mark] * len(chunk))})"
            f" AND is_stub = {mark} AND NOT EXISTS"
            " (SELECT 1 FROM related_link r WHERE r.related_article_id = article.id)",
            (*chunk, True),
        )


def write_batch(
    conn: Connection, catalog: Catalog, records: list[Record], versions: Sequence[Version]
) -> list[FileOutcome]:
    """Apply `records` (each a version of a file) in order and write them; the caller
    owns the transaction."""
    sql = _Sql(conn)
    catalog.refresh(sql)
    plan = _Plan(sql, catalog)
    _prefetch(
        plan, records, {v.previous_article for v in versions if v.previous_article is not None}
    )
    outcomes = [
        plan.add(record, version) for record, version in zip(records, versions, strict=True)
    ]
    _flush(plan)
    if catalog.on_written is not None:
        catalog.on_written(conn, catalog, plan.articles.values())
    return outcomes
