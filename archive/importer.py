"""Import record files: find them, skip what is already in, and write each one atomically.

Each file is written inside its own SAVEPOINT, so a file that fails half-way leaves
nothing behind; files are committed in batches so a killed import keeps every
batch it finished, and running it again picks up where it stopped (finished files
are recognised by their content hash and skipped without parsing).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from . import identity, models
from .database import Archive
from .errors import ArchiveError, RecordError, UsageError
from .records import Article, Image, Provider, Record, content_hash, parse_record

RECORD_SUFFIXES = (".md", ".txt", ".yaml", ".yml")
STDIN = "-"
BATCH_FILES = 500
# The summary keeps the first messages only: a million bad files must not cost memory.
MAX_KEPT_ERRORS = 1000

_article = models.Article.__table__
_article_url = models.ArticleUrl.__table__
_article_topic = models.ArticleTopic.__table__
_article_image = models.ArticleImage.__table__
_related = models.RelatedLink.__table__
_provider = models.Provider.__table__
_topic = models.Topic.__table__
_image = models.Image.__table__
_source = models.SourceFile.__table__

# Article columns a record states; the rest (id, is_stub, source_file_id) are ours.
_FIELDS = (
    "url", "title", "excerpt", "category", "type", "published_at", "quality", "heat",
    "published", "amp_url", "cdn_amp_url", "secured",
)  # fmt: skip


@dataclass
class ImportSummary:
    files_seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    articles_added: int = 0
    providers_added: int = 0
    topics_added: int = 0
    images_added: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0


class StrictAbort(ArchiveError):
    """--strict: the first bad file stops the run and nothing from the run is kept."""


def find_record_files(paths: Iterable[str]) -> Iterator[str]:
    """Record files under `paths`, directories walked depth-first in sorted name order.

    A file named explicitly is taken whatever its suffix; inside directories only
    .md, .txt, .yaml and .yml files are records (hidden files and folders are skipped).
    Only one directory listing is held at a time, so memory stays flat however many
    files there are.
    """
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists():
            yield str(path)
        else:
            raise UsageError(f"{raw}: no such file or directory")


def _walk(folder: Path) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise ArchiveError(f"{folder}: cannot list folder: {exc.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(Path(entry.path))
        elif entry.name.lower().endswith(RECORD_SUFFIXES):
            yield entry.path


def read_source(path: str) -> bytes:
    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise RecordError(f"cannot read file: {exc.strerror}", source=path) from None


class Importer:
    """Writes records into an open archive. Usable without the CLI:

    with open_archive("news.db") as archive: Importer(archive).run(["data/"])
    """

    def __init__(self, archive: Archive, *, strict: bool = False) -> None:
        self.archive = archive
        self.strict = strict
        self._providers: dict[str, int] = {}
        self._topics: dict[str, int] = {}

    def run(
        self,
        paths: Iterable[str],
        *,
        on_file: Callable[[str], None] | None = None,
        on_error: Callable[[RecordError], None] | None = None,
    ) -> ImportSummary:
        summary = ImportSummary()
        with self.archive.writer() as conn:
            transaction = conn.begin()
            self._load_maps(conn)
            pending = 0
            try:
                for path in find_record_files(paths):
                    summary.files_seen += 1
                    try:
                        self._import_file(conn, path, summary)
                    except RecordError as error:
                        summary.rejected += 1
                        if len(summary.errors) < MAX_KEPT_ERRORS:
                            summary.errors.append(str(error))
                        if on_error:
                            on_error(error)
                        if self.strict:
                            raise StrictAbort(
                                f"stopped at the first bad file (--strict); nothing from this run "
                                f"was written: {error}"
                            ) from None
                    if on_file:
                        on_file(path)
                    pending += 1
                    if pending >= BATCH_FILES and not self.strict:
                        transaction.commit()
                        transaction = conn.begin()
                        pending = 0
                transaction.commit()
            except BaseException:
                transaction.rollback()
                self._providers.clear()
                self._topics.clear()
                raise
        return summary

    def _load_maps(self, conn: Connection) -> None:
        self._providers = dict(conn.execute(select(_provider.c.key, _provider.c.id)).all())
        self._topics = dict(conn.execute(select(_topic.c.key, _topic.c.id)).all())

    def _import_file(self, conn: Connection, path: str, summary: ImportSummary) -> None:
        data = read_source(path)
        digest = content_hash(data)
        already = conn.execute(
            select(exists().where(_source.c.sha256 == digest, _source.c.status != "rejected"))
        ).scalar()
        if already:
            summary.unchanged += 1
            return
        record = parse_record(data, source=path)
        known_path = (
            path != STDIN and conn.execute(select(exists().where(_source.c.path == path))).scalar()
        )
        savepoint = conn.begin_nested()
        # The counters are only believed once the file's savepoint is released.
        before = (len(self._providers), len(self._topics))
        counts = _Counts()
        try:
            source_id = conn.execute(
                insert(_source).values(
                    path=path,
                    sha256=digest,
                    size=record.size,
                    imported_at=dt.datetime.now(dt.timezone.utc),
                    status="updated" if known_path else "new",
                    text=record.text,
                )
            ).inserted_primary_key[0]
            _RecordWriter(conn, self, source_id, counts).write(record)
            savepoint.commit()
        except SQLAlchemyError as exc:
            savepoint.rollback()
            self._forget_since(before)
            raise RecordError(f"could not be written: {_db_reason(exc)}", source=path) from None
        except BaseException:
            savepoint.rollback()
            self._forget_since(before)
            raise
        if known_path:
            summary.updated += 1
        else:
            summary.new += 1
        summary.articles_added += counts.articles
        summary.images_added += counts.images
        summary.providers_added += len(self._providers) - before[0]
        summary.topics_added += len(self._topics) - before[1]

    def _forget_since(self, before: tuple[int, int]) -> None:
        """Drop ids cached during a rolled-back file: those rows no longer exist."""
        for cache, size in ((self._providers, before[0]), (self._topics, before[1])):
            for key in list(cache)[size:]:
                del cache[key]


def _db_reason(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class _Counts:
    articles: int = 0
    images: int = 0


class _RecordWriter:
    """Writes one parsed record's rows. Lives for one file."""

    def __init__(self, conn: Connection, importer: Importer, source_id: int, counts: _Counts):
        self.conn = conn
        self.importer = importer
        self.source_id = source_id
        self.counts = counts

    def write(self, record: Record) -> None:
        own = record.article
        values = self._article_values(own)
        values.update(body=record.body, extra=own.extra or None, is_stub=False)
        values["source_file_id"] = self.source_id
        found = self._find_article(own.url_keys)
        if found is None:
            article_id = self._insert_article(values)
            old_targets: list[int] = []
        else:
            article_id = found[0]
            # The article's own record is the authority on it: replace what any
            # earlier record (its own or a related entry) said.
            old_targets = list(
                self.conn.execute(
                    select(_related.c.related_article_id).where(_related.c.article_id == article_id)
                ).scalars()
            )
            self.conn.execute(update(_article).where(_article.c.id == article_id).values(values))
            for table in (_article_topic, _article_image, _related):
                self.conn.execute(delete(table).where(table.c.article_id == article_id))
        self._claim_urls(article_id, own.url_keys)
        self._link_topics(article_id, record.topics)
        self._link_images(article_id, own.images)
        links = []
        for position, entry in enumerate(record.related):
            links.append(
                {"article_id": article_id, "position": position,
                 "related_article_id": self._related_article(entry)}
            )  # fmt: skip
        if links:
            self.conn.execute(insert(_related), links)
        self._drop_orphan_stubs(set(old_targets) - {link["related_article_id"] for link in links})

    def _article_values(self, article: Article) -> dict[str, Any]:
        values = {name: getattr(article, name) for name in _FIELDS}
        values["provider_id"] = self._provider_id(article.provider)
        return values

    def _find_article(self, keys: list[str]) -> tuple[int, bool] | None:
        rows = dict(
            self.conn.execute(
                select(_article_url.c.url_key, _article_url.c.article_id).where(
                    _article_url.c.url_key.in_(keys)
                )
            ).all()
        )
        for key in keys:  # the webUrl's key first: it is the article's identity
            if key in rows:
                article_id = rows[key]
                is_stub = self.conn.execute(
                    select(_article.c.is_stub).where(_article.c.id == article_id)
                ).scalar_one()
                return article_id, bool(is_stub)
        return None

    def _insert_article(self, values: dict[str, Any]) -> int:
        self.counts.articles += 1
        return self.conn.execute(insert(_article).values(values)).inserted_primary_key[0]

    def _claim_urls(self, article_id: int, keys: list[str]) -> None:
        """Point the URL keys no other article holds yet at this article."""
        taken = set(
            self.conn.execute(
                select(_article_url.c.url_key).where(_article_url.c.url_key.in_(keys))
            ).scalars()
        )
        free = [{"url_key": k, "article_id": article_id} for k in keys if k not in taken]
        if free:
            self.conn.execute(insert(_article_url), free)

    def _related_article(self, entry: Article) -> int:
        found = self._find_article(entry.url_keys)
        if found is None:
            values = self._article_values(entry)
            values.update(extra=entry.extra or None, is_stub=True, source_file_id=self.source_id)
            article_id = self._insert_article(values)
            self._claim_urls(article_id, entry.url_keys)
            self._link_images(article_id, entry.images)
            return article_id
        article_id, is_stub = found
        if is_stub:
            self._fill_stub(article_id, entry)
        return article_id

    def _fill_stub(self, article_id: int, entry: Article) -> None:
        """A later related entry only fills in what earlier ones left empty."""
        current = self.conn.execute(select(_article).where(_article.c.id == article_id)).one()
        offered = self._article_values(entry)
        offered["extra"] = entry.extra or None
        missing = {
            name: value
            for name, value in offered.items()
            if value is not None and getattr(current, name) is None
        }
        if missing:
            self.conn.execute(update(_article).where(_article.c.id == article_id).values(missing))
        self._claim_urls(article_id, entry.url_keys)
        has_images = self.conn.execute(
            select(exists().where(_article_image.c.article_id == article_id))
        ).scalar()
        if not has_images:
            self._link_images(article_id, entry.images)

    def _drop_orphan_stubs(self, candidates: set[int]) -> None:
        """Stubs that a replaced record named and nothing names any more."""
        for article_id in candidates:
            orphan = self.conn.execute(
                select(_article.c.id).where(
                    _article.c.id == article_id,
                    _article.c.is_stub.is_(True),
                    ~exists().where(_related.c.related_article_id == article_id),
                )
            ).scalar()
            if orphan is not None:
                self.conn.execute(delete(_article).where(_article.c.id == article_id))

    def _provider_id(self, provider: Provider | None) -> int | None:
        if provider is None:
            return None
        cache = self.importer._providers
        provider_id = cache.get(provider.key)
        if provider_id is None:
            provider_id = self.conn.execute(
                insert(_provider).values(
                    key=provider.key, name=provider.name, domain=provider.domain
                )
            ).inserted_primary_key[0]
            cache[provider.key] = provider_id
        elif provider.name or provider.domain:
            # Keep the first display name and domain; fill them in when first seen without.
            self.conn.execute(
                update(_provider)
                .where(_provider.c.id == provider_id)
                .values(
                    name=func.coalesce(_provider.c.name, provider.name),
                    domain=func.coalesce(_provider.c.domain, provider.domain),
                )
            )
        return provider_id

    def _link_topics(self, article_id: int, names: list[str]) -> None:
        cache = self.importer._topics
        rows, seen = [], set()
        for name in names:
            key = identity.topic_key(name)
            topic_id = cache.get(key)
            if topic_id is None:
                topic_id = self.conn.execute(
                    insert(_topic).values(key=key, name=name)
                ).inserted_primary_key[0]
                cache[key] = topic_id
            if topic_id not in seen:
                seen.add(topic_id)
                rows.append({"article_id": article_id, "topic_id": topic_id, "position": len(rows)})
        if rows:
            self.conn.execute(insert(_article_topic), rows)

    def _link_images(self, article_id: int, images: list[Image]) -> None:
        rows = [
            {"article_id": article_id, "position": position, "image_id": self._image_id(image)}
            for position, image in enumerate(images)
        ]
        if rows:
            self.conn.execute(insert(_article_image), rows)

    def _image_id(self, image: Image) -> int:
        row = self.conn.execute(select(_image).where(_image.c.url == image.url)).first()
        offered = {
            "width": image.width,
            "height": image.height,
            "is_cached": image.is_cached,
            "extra": image.extra or None,
        }
        if row is None:
            self.counts.images += 1
            return self.conn.execute(
                insert(_image).values(url=image.url, **offered)
            ).inserted_primary_key[0]
        missing = {k: v for k, v in offered.items() if v is not None and getattr(row, k) is None}
        if missing:
            self.conn.execute(update(_image).where(_image.c.id == row.id).values(missing))
        return row.id
