"""Write batches of parsed records into the normalized tables, with a few bulk statements.

Per batch, the rows already in the archive that the batch touches (articles by URL
key, images by URL) are read with one query each; the records are then applied in
order to a plan in memory (ids handed out from the tables' current maximum, which
is safe because a writer holds SQLite's write lock for the whole transaction), and
the plan is written with one `executemany` per table. That is what makes import
fast. The rules (own record wins, first related entry wins, fill what is empty)
are decided in ingest/merge.py; `_Plan` applies its answers to rows.

The statements are plain SQL in the driver's parameter style, built from the
SQLModel tables, with the columns' own SQLAlchemy bind processors; nothing here is
SQLite-specific except that explicit ids need the writer to hold the write lock.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import Boolean, Connection, DateTime, Table

from ..record_format import ARTICLE_COLUMNS
from ..store.models import tables
from . import merge
from .merge import RelatedEffect
from .records import Article, Image, Provider, Record

# Article columns that what a record says about an article fills (the rest: id,
# body, is_stub, source_file_id, which say where the row came from).
_FILLABLE = (*ARTICLE_COLUMNS, "provider_id", "extra")
_IMAGE_COLUMNS = ("width", "height", "is_cached", "extra")
_SOURCE_COLUMNS = (
    "id", "path", "sha256", "size", "imported_at", "status", "text", "article_id",
    "collection_id", "rel_path", "commit_id", "committed_at",
)  # fmt: skip
_PROVIDER_FILLABLE = ("name", "domain", "extra")
_article_fields = operator.attrgetter(*ARTICLE_COLUMNS)
_IN_CHUNK = 500  # bound parameters per IN (...) query: well under every driver's limit
_MULTIROW = 256  # most rows per multi-row INSERT, if the driver takes that many parameters


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


class _Sql:
    """Statements for one connection's dialect: placeholders and value conversion."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        dialect = conn.dialect
        self.mark = placeholder(conn)
        self._processors: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}
        self._dialect = dialect
        self.max_parameters = _max_parameters(dialect)
        self._native_bools = dialect.name == "sqlite"

    def columns(self, table: Table) -> list[str]:
        return [c.name for c in table.columns]

    def convert(
        self, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> list[tuple]:
        key = table.name + ":" + ",".join(names)
        processors = self._processors.get(key)
        if processors is None:
            processors = []
            for index, name in enumerate(names):
                column_type = table.c[name].type
                if self._native_bools and isinstance(column_type, Boolean):
                    # sqlite3 binds True and False as the integers SQLAlchemy's
                    # processor would make of them; the parser only gives booleans
                    # here. It was 5% of the writer's time.
                    continue
                process = column_type._cached_bind_processor(self._dialect)
                if process is not None:
                    # A TypeDecorator (SQLModel's UTC datetime) names its stored type in impl.
                    if isinstance(getattr(column_type, "impl", column_type), DateTime):
                        process = _memoized(process)
                    processors.append((index, process))
            self._processors[key] = processors
        if not processors:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for index, process in processors:
                # Every processor here keeps None as None (JSON with none_as_null):
                # most of these values are None, so skip the call.
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            out.append(tuple(values))
        return out

    def insert(self, table: Table, names: Sequence[str], rows: list[Sequence[Any]]) -> None:
        if rows:
            sql = (
                f"INSERT INTO {table.name} ({', '.join(names)}) "
                f"VALUES ({', '.join([self.mark] * len(names))})"
            )
            self.conn.exec_driver_sql(sql, self.convert(table, names, rows))

    def insert_multirow(
        self, table: Table, names: Sequence[str], rows: list[Sequence[Any]]
    ) -> None:
        """INSERT with many rows per statement, for tables whose inserts fire triggers.

        A statement that fires a trigger pays a fixed cost each time it runs: on
        SQLite, the search-index trigger on `article` made a one-row-per-statement
        `executemany` three times slower than the same rows in 200-row statements
        (54 against 20 µs per article). Statements hold a power of two of rows, so
        a handful of statement texts serve every batch size from the driver's cache.
        """
        converted = self.convert(table, names, rows)
        row_marks = f"({', '.join([self.mark] * len(names))})"
        most = 1
        while most * 2 <= min(_MULTIROW, self.max_parameters // len(names)):
            most *= 2
        start = 0
        while start < len(converted):
            size = most
            while size > len(converted) - start:
                size //= 2
            part = converted[start : start + size]
            self.conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
                + ", ".join([row_marks] * size),
                tuple(chain.from_iterable(part)),
            )
            start += size

    def update(
        self, table: Table, names: Sequence[str], rows: list[Sequence[Any]], *, fill: bool = False
    ) -> None:
        """UPDATE by id; each row is (values..., id). With `fill`, only NULL columns change."""
        if not rows:
            return
        if fill:
            sets = ", ".join(f"{n} = COALESCE({n}, {self.mark})" for n in names)
        else:
            sets = ", ".join(f"{n} = {self.mark}" for n in names)
        sql = f"UPDATE {table.name} SET {sets} WHERE id = {self.mark}"
        converted = self.convert(table, [*names, "id"], rows)
        self.conn.exec_driver_sql(sql, converted)

    def delete_where_in(self, table: Table, column: str, ids: Sequence[int]) -> None:
        for chunk in _chunks(list(ids)):
            marks = ", ".join([self.mark] * len(chunk))
            self.conn.exec_driver_sql(
                f"DELETE FROM {table.name} WHERE {column} IN ({marks})", tuple(chunk)
            )

    def select_in(self, sql: str, values: Iterable[Any]) -> list[tuple]:
        return select_in(self.conn, sql, values)

    def max_id(self, table: Table) -> int:
        return self.conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0


def _identity(collection_id: int | None, rel_path: str | None) -> tuple[int, str] | None:
    return None if collection_id is None or rel_path is None else (collection_id, rel_path)


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A datetime bind processor that converts each value once per batch and type.

    Timestamps repeat within a batch: every file's import time, and each article's
    publication time again in its topic links. Converting one took 2-3% of the
    writer's time. Equal aware datetimes are the same instant, which the
    processor stores as the same value.
    """
    cache: dict[Any, Any] = {}

    def process_once(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) >= 65536:
                cache.clear()
            result = cache[value] = process(value)
            return result

    return process_once


def _max_parameters(dialect: Any) -> int:
    """How many bound parameters one statement may carry."""
    if dialect.name == "sqlite":
        # SQLite before 3.32 was built with a limit of 999 by default.
        return 32766 if dialect.dbapi.sqlite_version_info >= (3, 32, 0) else 999
    return 32767  # psycopg allows 65,535; stay well inside it


def placeholder(conn: Connection) -> str:
    """The driver's parameter marker: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def select_in(conn: Connection, sql: str, values: Iterable[Any]) -> list[tuple]:
    """Run `sql`, whose `{marks}` slot takes one marker per value, over chunks of `values`."""
    rows: list[tuple] = []
    mark = placeholder(conn)
    for chunk in _chunks(list(dict.fromkeys(values))):
        rows += conn.exec_driver_sql(
            sql.format(marks=", ".join([mark] * len(chunk))), tuple(chunk)
        ).all()
    return rows


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class Catalog:
    """Providers and topics by key, kept across batches (there are few of them)."""

    def __init__(self) -> None:
        # key -> [id, name, domain, extra]; extra is True for "some", as the writer
        # only needs to know whether a provider has any yet.
        self.providers: dict[str, list[Any]] = {}
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
            key: [pid, name, domain, True if extra else None]
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


class _Plan:
    """A batch of records applied in memory, then written with bulk statements."""

    def __init__(
        self, sql: _Sql, catalog: Catalog, records: list[Record], previous: Iterable[int] = ()
    ) -> None:
        self.sql = sql
        self.catalog = catalog
        self.ids = _Ids(
            article=sql.max_id(tables.article),
            image=sql.max_id(tables.image),
            source=sql.max_id(tables.source),
            provider=sql.max_id(tables.provider),
            topic=sql.max_id(tables.topic),
        )
        self.now = dt.datetime.now(dt.timezone.utc)
        self.sources: list[tuple] = []
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
        self.images: dict[str, _ImageState] = {}
        self.new_providers: list[tuple] = []
        self.filled_providers: dict[int, dict[str, Any]] = {}
        self.new_topics: list[tuple] = []
        self.topic_links: dict[int, list[tuple]] = {}
        self.image_links: dict[int, list[tuple]] = {}
        self.related_links: dict[int, list[tuple]] = {}
        self.replaced: set[int] = set()  # old articles whose links this batch rewrites
        self.orphan_candidates: set[int] = set()
        self._prefetch(records)
        self._prefetch_articles(previous)

    # --- reading what the batch touches -------------------------------------------

    def _prefetch(self, records: list[Record]) -> None:
        keys: list[str] = []
        image_urls: list[str] = []
        for record in records:
            for entry in (record.article, *record.related):
                keys += entry.url_keys
                image_urls += [image.url for image in entry.images]
        rows = self.sql.select_in(
            "SELECT u.url_key, a.id, a.is_stub, s.path, s.collection_id, s.rel_path, u.alias"
            " FROM article_url u JOIN article a ON a.id = u.article_id"
            " LEFT JOIN source_file s ON s.id = a.source_file_id AND NOT a.is_stub"
            " WHERE u.url_key IN ({marks})",
            keys,
        )
        for key, article_id, is_stub, path, collection_id, rel_path, alias in rows:
            self.url_keys[key] = article_id
            if alias:
                self.aliases.add(key)
            if article_id not in self.articles:
                self.articles[article_id] = _ArticleState(
                    article_id, bool(is_stub), new=False, source_path=path,
                    source_file=_identity(collection_id, rel_path),
                )  # fmt: skip
        rows = self.sql.select_in(
            "SELECT url, id, width, height, is_cached, extra FROM image WHERE url IN ({marks})",
            image_urls,
        )
        for url, image_id, width, height, is_cached, extra in rows:
            values = {"width": width, "height": height, "is_cached": is_cached, "extra": extra}
            self.images[url] = _ImageState(image_id, new=False, values=values)
        stubs = [a.id for a in self.articles.values() if a.is_stub]
        with_images = {
            row[0]
            for row in self.sql.select_in(
                "SELECT DISTINCT article_id FROM article_image WHERE article_id IN ({marks})", stubs
            )
        }
        for article_id in stubs:
            self.articles[article_id].has_images = article_id in with_images
        # Knowing which of a stub's fields are still empty keeps the many related
        # entries that repeat what it already says from becoming UPDATEs (each of
        # which would also re-index the stub's text for search).
        for article_id, *values in self.sql.select_in(
            f"SELECT id, {', '.join(_FILLABLE)} FROM article WHERE id IN ({{marks}})", stubs
        ):
            self.articles[article_id].row = {
                name: None for name, value in zip(_FILLABLE, values, strict=True) if value is None
            }

    def _prefetch_articles(self, ids: Iterable[int]) -> None:
        """The articles files described before this batch (which follow their files)."""
        wanted = [i for i in ids if i not in self.articles]
        for article_id, is_stub, path, collection_id, rel_path in self.sql.select_in(
            "SELECT a.id, a.is_stub, s.path, s.collection_id, s.rel_path FROM article a"
            " LEFT JOIN source_file s ON s.id = a.source_file_id AND NOT a.is_stub"
            " WHERE a.id IN ({marks})",
            wanted,
        ):
            self.articles[article_id] = _ArticleState(
                article_id, bool(is_stub), new=False, source_path=path,
                source_file=_identity(collection_id, rel_path),
            )  # fmt: skip

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
            same_file = state.source_path == record.source or (
                identity is not None and state.source_file == identity
            )
            if not state.is_stub and not same_file:
                outcome.merged_with = state.source_path
            # The own record is the authority: its row replaces what the batch had.
            self._forget_links(state.id)
            if not state.new:
                self.replaced.add(state.id)
            state.row, state.whole, state.is_stub, state.filled = row, True, False, set()
        state.source_path, state.source_file = record.source, identity
        state.story = record.story
        if identity is not None:
            self.file_articles[identity] = state.id
        row["id"] = state.id
        self.sources.append(
            (source_id, record.source, record.sha256, record.size, self.now, version.status,
             record.text, state.id, version.collection_id, version.rel_path, version.commit_id,
             version.committed_at)
        )  # fmt: skip
        if not state.new:
            self.current_keys[state.id] = own.url_keys
        self._claim_own(state.id, own.url_keys)
        self.topic_links[state.id] = self._topic_rows(state.id, row, record.topics, outcome)
        self.image_links[state.id] = self._image_rows(state.id, own.images, outcome)
        self.related_links[state.id] = [
            (state.id, position, self._related(entry, source_id, outcome))
            for position, entry in enumerate(record.related)
        ]
        return outcome

    def _forget_links(self, article_id: int) -> None:
        """A new own record replaces the links an earlier record gave the article."""
        for links in (self.topic_links, self.image_links):
            links.pop(article_id, None)
        for _, _, target in self.related_links.pop(article_id, []):
            self.orphan_candidates.add(target)

    def _row(self, article: Article, outcome: FileOutcome) -> dict[str, Any]:
        row = dict(zip(ARTICLE_COLUMNS, _article_fields(article), strict=True))
        row["provider_id"] = self._provider_id(article.provider, outcome)
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
            self.image_links[state.id] = self._image_rows(state.id, entry.images, outcome)
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
                self.image_links[state.id] = self._image_rows(state.id, entry.images, outcome)
        return state.id

    def _provider_id(self, provider: Provider | None, outcome: FileOutcome) -> int | None:
        if provider is None:
            return None
        extra = provider.extra or None
        known = self.catalog.providers.get(provider.key)
        if known is None:
            provider_id = self.ids.next("provider")
            self.catalog.providers[provider.key] = [
                provider_id, provider.name, provider.domain, True if extra else None
            ]  # fmt: skip
            self.new_providers.append(
                (provider_id, provider.key, provider.name, provider.domain, extra)
            )
            outcome.providers += 1
            return provider_id
        provider_id, name, domain, has_extra = known
        if (
            (name is not None or provider.name is None)
            and (domain is not None or provider.domain is None)
            and (has_extra is not None or extra is None)
        ):
            return provider_id  # nothing left for this record to fill (most records)
        display = (name, domain, has_extra)
        filled = merge.fill_empty(
            dict(zip(_PROVIDER_FILLABLE, display, strict=True)),
            {"name": provider.name, "domain": provider.domain, "extra": extra},
        )
        if filled:
            for position, name in enumerate(_PROVIDER_FILLABLE, start=1):
                if name in filled:
                    known[position] = True if name == "extra" else filled[name]
            self.filled_providers.setdefault(provider_id, {}).update(filled)
        return provider_id

    def _topic_rows(
        self, article_id: int, row: dict[str, Any], names: list[str], outcome: FileOutcome
    ) -> list[tuple]:
        rows: list[tuple] = []
        provider_id, published_at = row["provider_id"], row["published_at"]
        for position, (key, name) in enumerate(merge.unique_topics(names)):
            topic_id = self.catalog.topics.get(key)
            if topic_id is None:
                topic_id = self.ids.next("topic")
                self.catalog.topics[key] = topic_id
                self.new_topics.append((topic_id, key, name))
                outcome.topics += 1
            rows.append((article_id, topic_id, position, provider_id, published_at))
        return rows

    def _image_rows(
        self, article_id: int, images: list[Image], outcome: FileOutcome
    ) -> list[tuple]:
        rows = []
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
            rows.append((article_id, position, state.id))
        return rows

    # --- writing ------------------------------------------------------------------

    def flush(self) -> None:
        sql = self.sql
        sql.insert(tables.source, _SOURCE_COLUMNS, self.sources)
        sql.insert(tables.provider, ["id", "key", "name", "domain", "extra"], self.new_providers)
        sql.update(
            tables.provider,
            _PROVIDER_FILLABLE,
            [
                (*(fills.get(name) for name in _PROVIDER_FILLABLE), provider_id)
                for provider_id, fills in self.filled_providers.items()
            ],
            fill=True,
        )
        sql.insert(tables.topic, ["id", "key", "name"], self.new_topics)

        image_columns = list(_IMAGE_COLUMNS)
        new_images, filled_images = [], []
        for url, state in self.images.items():
            values = [state.values[name] for name in image_columns]
            if state.new:
                new_images.append((state.id, url, *values))
            elif state.dirty:
                filled_images.append((*values, state.id))
        sql.insert(tables.image, ["id", "url", *image_columns], new_images)
        sql.update(tables.image, image_columns, filled_images, fill=True)

        columns = sql.columns(tables.article)
        values = operator.itemgetter(*columns)
        new_rows, full_updates = [], []
        fills: dict[tuple[str, ...], list[list[Any]]] = {}
        for state in self.articles.values():
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
        sql.insert(tables.article_url, ["url_key", "article_id"], self.new_url_keys)
        self._write_aliases()

        if self.replaced:
            old_targets = sql.select_in(
                "SELECT related_article_id FROM related_link WHERE article_id IN ({marks})",
                self.replaced,
            )
            self.orphan_candidates.update(target for (target,) in old_targets)
            for table in (tables.article_topic, tables.article_image, tables.related):
                sql.delete_where_in(table, "article_id", sorted(self.replaced))
        for table, links, names in (
            (
                tables.article_topic,
                self.topic_links,
                ["article_id", "topic_id", "position", "provider_id", "published_at"],
            ),
            (tables.article_image, self.image_links, ["article_id", "position", "image_id"]),
            (tables.related, self.related_links, ["article_id", "position", "related_article_id"]),
        ):
            sql.insert(table, names, [row for rows in links.values() for row in rows])
        self._drop_orphan_stubs()

    def _write_aliases(self) -> None:
        """A re-applied record's article keeps its addresses that the record no longer
        gives, as aliases; an alias another record claimed moves to its article."""
        sql = self.sql
        mark = sql.mark
        for chunk in _chunks(sorted(self.current_keys)):
            sql.conn.exec_driver_sql(
                f"UPDATE article_url SET alias = {mark} WHERE article_id IN"
                f" ({', '.join([mark] * len(chunk))})",
                (True, *chunk),
            )
        current = [
            (False, key, article_id)
            for article_id, keys in self.current_keys.items()
            for key in keys
        ] + [(False, key, article_id) for article_id, key in self.moved_keys]
        if self.moved_keys:
            sql.conn.exec_driver_sql(
                f"UPDATE article_url SET article_id = {mark} WHERE url_key = {mark}",
                [(article_id, key) for article_id, key in self.moved_keys],
            )
        if current:
            sql.conn.exec_driver_sql(
                f"UPDATE article_url SET alias = {mark} WHERE url_key = {mark}"
                f" AND article_id = {mark}",
                current,
            )

    def _drop_orphan_stubs(self) -> None:
        """Stubs that a replaced record named and that nothing names any more."""
        if not self.orphan_candidates:
            return
        for chunk in _chunks(sorted(self.orphan_candidates)):
            marks = ", ".join([self.sql.mark] * len(chunk))
            self.sql.conn.exec_driver_sql(
                f"DELETE FROM article WHERE id IN ({marks}) AND is_stub = {self.sql.mark}"
                " AND NOT EXISTS (SELECT 1 FROM related_link r WHERE r.related_article_id = article.id)",
                (*chunk, True),
            )


def write_batch(
    conn: Connection, catalog: Catalog, records: list[Record], versions: Sequence[Version]
) -> list[FileOutcome]:
    """Apply `records` (each a version of a file) in order and write them; the caller
    owns the transaction."""
    sql = _Sql(conn)
    catalog.refresh(sql)
    previous = {v.previous_article for v in versions if v.previous_article is not None}
    plan = _Plan(sql, catalog, records, previous)
    outcomes = [
        plan.add(record, version) for record, version in zip(records, versions, strict=True)
    ]
    plan.flush()
    if catalog.on_written is not None:
        catalog.on_written(conn, catalog, plan.articles.values())
    return outcomes
