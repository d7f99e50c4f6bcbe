"""The machine's practical limit for an import: the fastest parser feeding a raw writer.

rapidyaml (to JSON, into a reused buffer) parses in worker processes on every
core; one process writes the same tables archive writes, with plain sqlite3
`executemany` in one transaction per chunk and every id kept in memory. No
validation, no URL normalization, no idempotency checks, no per-file atomicity:
this is the floor under what any importer of these files can cost here, and the
benchmark prints archive's figure as a fraction of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import ryml

from archive.ingest.importer import COMMIT_FILES, WRITER_CACHE_KIB
from archive.store.deferred_indexes import DEFERRED

CHUNK = 500
MULTIROW = 256
_buffer = bytearray(1 << 16)


def _quiet() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def _parse(paths: list[str]) -> list[tuple[str, str, dict]]:
    global _buffer
    out = []
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        text = data.decode("utf-8")
        # Front matter opens with `---` and a LF or CRLF (rapidyaml reads CRLF itself).
        opened = data.startswith((b"---\n", b"---\r\n"))
        front = data.split(b"\n---", 1)[0][data.index(b"\n") + 1 :] if opened else data
        tree = ryml.parse_in_arena(front)
        failed, size = ryml.emit_json_to_substr(tree, tree.root_id(), _buffer)
        if failed:
            _buffer = bytearray(size * 2)
            failed, size = ryml.emit_json_to_substr(tree, tree.root_id(), _buffer)
        out.append((path, text, json.loads(bytes(memoryview(_buffer)[:size]))))
    return out


def _files(folder: Path) -> Iterator[str]:
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".md"):
                yield os.path.join(root, name)


def _chunks(items: Iterator[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Writer:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.providers: dict[str, int] = {}
        self.topics: dict[str, int] = {}
        self.images: dict[str, int] = {}
        self.articles: dict[str, int] = {}
        self.rows: dict[str, list[tuple]] = {}
        self.widths: dict[str, int] = {}
        self.next_id = {"article": 0, "provider": 0, "topic": 0, "image": 0, "source_file": 0}

    def _id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def _row(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)

    def _width(self, table: str) -> int:
        """The table's column count: columns later revisions added (at the end, all
        nullable: file identities, removal) stay NULL, the least the limit can do."""
        if table not in self.widths:
            self.widths[table] = len(self.db.execute(f"PRAGMA table_info({table})").fetchall())
        return self.widths[table]

    def _provider(self, provider: dict | None) -> int | None:
        if not provider:
            return None
        key = (provider.get("domain") or provider.get("name") or "").lower()
        if key not in self.providers:
            self.providers[key] = self._id("provider")
            extra = {k: v for k, v in provider.items() if k not in ("name", "domain")}
            self._row(
                "provider",
                (
                    self.providers[key],
                    key,
                    provider.get("name"),
                    provider.get("domain"),
                    json.dumps(extra) if extra else None,
                ),
            )
        return self.providers[key]

    def _article(self, data: dict, source_id: int, stub: bool, body: str | None) -> int:
        url = data.get("webUrl") or data["originalUrl"]
        if url in self.articles:
            return self.articles[url]
        article_id = self._id("article")
        self.articles[url] = article_id
        self._row(
            "article",
            (article_id, url, data.get("title"), data.get("excerpt"), body, data.get("category"),
             data.get("type"), str(data.get("publishedDateTime")), data.get("quality"),
             data.get("heat"), data.get("published"), data.get("ampWebUrl"),
             data.get("cdnAmpWebUrl"), self._provider(data.get("provider")), data.get("secured"),
             None, stub, source_id, data.get("originalUrl"), data.get("featuredContent")),
        )  # fmt: skip
        self._row("article_url", (url.lower(), article_id))
        for position, image in enumerate(data.get("images") or []):
            image_id = self.images.get(image["url"])
            if image_id is None:
                image_id = self.images[image["url"]] = self._id("image")
                self._row(
                    "image",
                    (
                        image_id,
                        image["url"],
                        image.get("width"),
                        image.get("height"),
                        image.get("isCached"),
                        None,
                    ),
                )
            self._row("article_image", (article_id, position, image_id))
        return article_id

    def add(self, path: str, text: str, data: dict) -> None:
        source_id = self._id("source_file")
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        digest = hashlib.sha256(text.encode()).hexdigest()
        article_id = self._article(data, source_id, False, None)
        self._row("source_file", (source_id, path, digest, len(text), now, "new", text, article_id))
        provider_id = self._provider(data.get("provider"))
        published = str(data.get("publishedDateTime"))
        for position, topic in enumerate(dict.fromkeys(data.get("topics") or [])):
            key = topic.lower()
            if key not in self.topics:
                self.topics[key] = self._id("topic")
                self._row("topic", (self.topics[key], key, topic))
            self._row(
                "article_topic", (article_id, self.topics[key], position, provider_id, published)
            )
        for position, entry in enumerate(data.get("related") or []):
            related_id = self._article(entry, source_id, True, None)
            self._row("related_link", (article_id, position, related_id))

    def flush(self, commit: bool = True) -> None:
        for table in ("source_file", "provider", "topic", "image", "article", "article_url",
                      "article_topic", "article_image", "related_link"):  # fmt: skip
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            padding = (None,) * (self._width(table) - len(rows[0]))
            if padding:
                rows = [row + padding for row in rows]
            marks = f"({', '.join('?' * len(rows[0]))})"
            if table == "article":
                # Many rows per statement, as archive's writer does: each run of a
                # statement that fires the search-index trigger has a fixed cost.
                for start in range(0, len(rows), MULTIROW):
                    part = rows[start : start + MULTIROW]
                    self.db.execute(
                        f"INSERT OR IGNORE INTO article VALUES {', '.join([marks] * len(part))}",
                        [value for row in part for value in row],
                    )
            else:
                self.db.executemany(f"INSERT OR IGNORE INTO {table} VALUES {marks}", rows)
        if commit:
            self.db.commit()


def run_limit(folder: Path, db_path: Path, workers: int = 2) -> tuple[int, float]:
    """Import `folder` into `db_path` (an empty archive schema); return (records, seconds)."""
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    # The same bulk-load settings archive's importer uses: a limit that could go
    # faster with them would flatter the ratio.
    db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
    writer = _Writer(db)
    count = 0
    start = time.perf_counter()
    # Like archive's first import, build the query-only indexes once at the end.
    deferred = [
        sql
        for name in DEFERRED
        for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,))
    ]
    for name in DEFERRED:
        db.execute(f"DROP INDEX {name}")
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_quiet) as pool:
        for parsed in pool.imap(_parse, _chunks(_files(folder))):
            for path, text, data in parsed:
                writer.add(path, text, data)
                count += 1
            writer.flush(commit=count % COMMIT_FILES == 0)
        writer.flush()
    for sql in deferred:
        db.execute(sql)
    db.commit()
    seconds = time.perf_counter() - start
    db.close()
    return count, seconds
