"""Import record files: find them, skip what is already in, parse in parallel, write in batches.

The pipeline: this process walks the paths, reads each file and hashes it; files
whose content is already in the archive are skipped without parsing. The rest go,
a chunk at a time, to parser processes (records.parse_record), and come back in
order to this process, the only writer, which applies each chunk in one savepoint
(writer.write_batch) and commits every few chunks.

All or nothing per file: a file that fails to parse or validate is reported and
left out; if writing a chunk fails on a constraint, the chunk is rolled back and
retried one file at a time, so only the offending file is rejected. A killed
import keeps every committed chunk, and running it again completes the work
(finished files are recognised by their content hash).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ..errors import ArchiveError, BusyError, RecordError, UsageError
from ..store import deferred_indexes
from ..store.database import Archive
from ..store.location import BUSY_TIMEOUT_MS
from . import yamlfast
from .records import MAX_FILE_BYTES, Record, content_hash, parse_record
from .writer import Catalog, FileOutcome, select_in, write_batch

RECORD_SUFFIXES = (".md", ".txt", ".yaml", ".yml")
STDIN = "-"
BATCH_FILES = 250
# Chunks parsed ahead of the writer: enough to keep both parsers busy, few enough
# that memory stays flat.
PREFETCH = 2
# A transaction spans several chunks: every commit rewrites the index pages the
# chunk touched (URL keys and image URLs land all over their indexes), so fewer,
# larger commits write far less. The time bound keeps the write lock short enough
# for another import to interleave, and bounds what a crash can take back.
COMMIT_FILES = 5000
COMMIT_SECONDS = 5.0
# The writer's page cache while importing (KiB, SQLite's negative cache_size): the
# indexes that grow with the archive stay in memory between commits.
WRITER_CACHE_KIB = 65_536
# The summary keeps the first messages only: a million bad files must not cost memory.
MAX_KEPT_ERRORS = 1000


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

    def add(self, outcome: FileOutcome, updated: bool) -> None:
        if updated:
            self.updated += 1
        else:
            self.new += 1
        self.articles_added += outcome.articles
        self.providers_added += outcome.providers
        self.topics_added += outcome.topics
        self.images_added += outcome.images


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


def read_source(path: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes; one larger than `max_bytes` is refused without reading it all."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            # os.open/os.read: no buffered file object, fewer system calls per file,
            # which is most of what a re-import of unchanged files costs.
            descriptor = os.open(path, os.O_RDONLY)
            try:
                parts = [os.read(descriptor, max_bytes + 1)]
                while parts[-1] and sum(map(len, parts)) <= max_bytes:  # short reads
                    parts.append(os.read(descriptor, max_bytes + 1))
            finally:
                os.close(descriptor)
            data = b"".join(parts)
    except OSError as exc:
        raise RecordError(f"cannot read file: {exc.strerror}", source=path) from None
    if len(data) > max_bytes:
        raise RecordError(
            f"file is larger than {max_bytes} bytes (see --max-file-size)", source=path
        )
    return data


def parse_many(
    items: list[tuple[str, bytes]], max_bytes: int = MAX_FILE_BYTES
) -> list[Record | RecordError]:
    """Parse a chunk of files (runs in a parser process)."""
    results: list[Record | RecordError] = []
    for path, data in items:
        try:
            record = parse_record(data, source=path, max_bytes=max_bytes)
        except RecordError as error:
            results.append(error)
            continue
        # The writer already holds the bytes: don't ship the text back through a pipe.
        record.text = None  # type: ignore[assignment]
        results.append(record)
    return results


def default_workers() -> int:
    """Parser processes: one per core but the one the writer needs, at least one.

    The writer is the slower half of an import, so more parsers than the cores it
    leaves free only compete with it for CPU (and each costs memory).
    """
    return max(1, min((os.cpu_count() or 1) - 1, 4))


class _Done:
    """A finished result with the interface of multiprocessing's AsyncResult."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


class _Parsers:
    """Parses chunks in worker processes, or in this process for small imports."""

    def __init__(self, workers: int, max_bytes: int) -> None:
        self.workers = workers
        self.max_bytes = max_bytes
        self.pool: Any = None
        self.submitted = 0

    def submit(self, items: list[tuple[str, bytes]]) -> Any:
        self.submitted += 1
        # The first chunk is parsed here: small imports never pay for starting processes.
        if self.workers == 0 or self.submitted == 1 or not items:
            return _Done(parse_many(items, self.max_bytes))
        if self.pool is None:
            context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
            # Forked parsers share this process's memory until either side writes to
            # it; keeping the collector away from the objects that exist now keeps
            # those pages shared (see gc.freeze). They stay frozen in this process
            # too: unfreezing after the fork let its collector touch them again
            # (peak PSS of a 10k import 217 -> 240 MB). Frozen objects are still
            # freed when no longer referenced; only cycles among them are kept.
            gc.freeze()
            self.pool = context.Pool(self.workers, initializer=yamlfast.silence_stderr)
        return self.pool.apply_async(parse_many, (items, self.max_bytes))

    def close(self, *, wait: bool) -> None:
        if self.pool is not None:
            if wait:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            self.pool = None


@dataclass
class _Chunk:
    # Per file, in order: (path, sha256 or None if unreadable, index into the parsed
    # results or None if the content is already in the archive).
    order: list[tuple[str, str | None, int | None]]
    parsed: Any  # result of _Parsers.submit: list[Record | RecordError]
    failures: dict[str, RecordError]
    contents: list[bytes]  # of the parsed files, by the same index


class Importer:
    """Writes record files into an open archive. Usable without the CLI:

    archive = open_archive("news.db"); Importer(archive).run(["data/"]); archive.close()
    """

    def __init__(
        self,
        archive: Archive,
        *,
        strict: bool = False,
        workers: int | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        commit_files: int | None = None,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.commit_files = commit_files or COMMIT_FILES
        self.archive = archive
        self.strict = strict
        self.workers = workers if workers is not None else default_workers()
        self.catalog = Catalog()

    def run(
        self,
        paths: Iterable[str],
        *,
        on_file: Callable[[str], None] | None = None,
        on_error: Callable[[RecordError], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> ImportSummary:
        summary = ImportSummary()
        self._on_file = on_file or (lambda _path: None)
        self._on_error = on_error or (lambda _error: None)
        # Steps after the last file that can take a while on a large archive.
        self._on_stage = on_stage or (lambda _stage: None)
        parsers = _Parsers(self.workers, self.max_file_bytes)
        finished = False
        # Reads (which files are new) use their own connection; the writer holds the
        # write lock for one transaction at a time (COMMIT_FILES / COMMIT_SECONDS),
        # so two imports can interleave.
        with (
            self.archive.writer(cache_kib=WRITER_CACHE_KIB) as conn,
            self.archive.connect() as reader,
        ):
            self._transaction: Any = None
            self._uncommitted: list[tuple[str, str]] = []
            self._opened = 0.0
            with reader.begin():
                self._defer_indexes = deferred_indexes.archive_is_empty(reader)
                interrupted = deferred_indexes.missing(reader)
            if interrupted:  # an earlier first import was killed before building them
                self._on_stage("Building indexes")
                self._build_indexes(conn)
                self._on_stage("Importing")
            self._indexes_dropped = False
            try:
                pending: deque[_Chunk] = deque()
                in_flight = _InFlight()
                chunks = _chunked(find_record_files(paths), BATCH_FILES)
                with contextlib.closing(_read_ahead(chunks, self.max_file_bytes)) as files:
                    for chunk_files in files:
                        pending.append(
                            self._submit(reader, chunk_files, parsers, in_flight, summary)
                        )
                        if len(pending) > PREFETCH:
                            self._write_chunk(conn, pending.popleft(), in_flight, summary)
                while pending:
                    self._write_chunk(conn, pending.popleft(), in_flight, summary)
                if self._transaction is not None:
                    self._commit(in_flight)
                finished = True
            except BaseException:
                if self._transaction is not None:
                    _quietly_roll_back(self._transaction)
                self.catalog.forget()
                raise
            finally:
                self._transaction = None
                parsers.close(wait=finished)
                if self._indexes_dropped:
                    self._on_stage("Building indexes")
                    self._build_indexes(conn, quietly=not finished)
            self._after_import(conn, summary)
        return summary

    def _write_chunk(
        self, conn: Connection, chunk: _Chunk, in_flight: _InFlight, summary: ImportSummary
    ) -> None:
        if self._transaction is None:
            self._transaction = _busy_aware(conn.begin)
            self._opened = time.monotonic()
            if self._defer_indexes and not self._indexes_dropped:
                deferred_indexes.drop(conn)
                self._indexes_dropped = True
        self._write(conn, chunk, in_flight, summary)
        if self.strict:  # --strict keeps the whole run in one transaction
            return
        if (
            len(self._uncommitted) >= self.commit_files
            or time.monotonic() - self._opened >= COMMIT_SECONDS
        ):
            self._commit(in_flight)

    def _build_indexes(self, conn: Connection, *, quietly: bool = False) -> None:
        """Build the query indexes a first import deferred (see deferred_indexes)."""
        try:
            transaction = _busy_aware(conn.begin)
            try:
                deferred_indexes.build(conn)
                _busy_aware(transaction.commit)
            except BaseException:
                _quietly_roll_back(transaction)
                raise
        except SQLAlchemyError as exc:
            # After a failed import (a full disk, say) this may fail too: the first
            # error is the one to report, and the next import builds them.
            if not quietly:
                raise ArchiveError(
                    f"could not build the query indexes: {_db_reason(exc)}; the records"
                    " are kept, and the next import builds them"
                ) from None
        except BaseException:
            if not quietly:
                raise

    def _commit(self, in_flight: _InFlight) -> None:
        _busy_aware(self._transaction.commit)
        self._transaction = None
        # Only now can the reading connection see these files.
        for path, digest in self._uncommitted:
            in_flight.discard(path, digest)
        self._uncommitted = []

    def _submit(
        self,
        conn: Connection,
        files: list[_File],
        parsers: _Parsers,
        in_flight: _InFlight,
        summary: ImportSummary,
    ) -> _Chunk:
        read: list[tuple[str, str | None]] = []
        contents: dict[str, bytes] = {}
        failures: dict[str, RecordError] = {}
        for path, data, digest in files:
            summary.files_seen += 1
            if isinstance(data, RecordError):
                failures[path] = data
                read.append((path, None))
                continue
            read.append((path, digest))
            contents.setdefault(digest, data)  # type: ignore[arg-type]
        with conn.begin():
            latest = _latest_hashes(conn, [path for path, digest in read if digest is not None])
            imported = _imported_hashes(conn, list(contents))
        order: list[tuple[str, str | None, int | None]] = []
        to_parse: list[tuple[str, bytes]] = []
        for path, digest in read:
            index = None
            if digest is not None and not in_flight.unchanged(path, digest, latest, imported):
                in_flight.add(path, digest)
                index = len(to_parse)
                to_parse.append((path, contents[digest]))
            order.append((path, digest, index))
        return _Chunk(order, parsers.submit(to_parse), failures, [data for _, data in to_parse])

    def _write(
        self, conn: Connection, chunk: _Chunk, in_flight: _InFlight, summary: ImportSummary
    ) -> None:
        parsed = chunk.parsed.get()
        records: list[Record] = []
        for path, digest, index in chunk.order:
            result = chunk.failures.get(path) if digest is None else None
            if index is not None:
                result = parsed[index]
                if isinstance(result, Record):
                    result.text = chunk.contents[index].decode("utf-8")
            if isinstance(result, RecordError):
                self._reject(result, summary)
            elif result is None:
                summary.unchanged += 1
            else:
                records.append(result)
        known = _known_paths(conn, [r.source for r in records])
        for record, outcome in zip(records, self._write_records(conn, records, known), strict=True):
            if isinstance(outcome, RecordError):
                self._reject(outcome, summary)
            else:
                summary.add(outcome, record.source in known)
        for path, digest, index in chunk.order:
            if index is not None:
                self._uncommitted.append((path, digest))  # type: ignore[arg-type]
            self._on_file(path)

    def _write_records(
        self, conn: Connection, records: list[Record], known: set[str]
    ) -> list[FileOutcome | RecordError]:
        if not records:
            return []
        savepoint = conn.begin_nested()
        try:
            outcomes: list[FileOutcome | RecordError] = list(
                write_batch(conn, self.catalog, records, known)
            )
            savepoint.commit()
            return outcomes
        except IntegrityError as exc:
            _quietly_roll_back(savepoint)
            self.catalog.forget()
            if len(records) == 1:
                return [
                    RecordError(
                        f"could not be written: {_db_reason(exc)}", source=records[0].source
                    )
                ]
            # Find the file that broke the chunk: retry one file at a time.
            results: list[FileOutcome | RecordError] = []
            for record in records:
                results += self._write_records(conn, [record], known)
            return results
        except SQLAlchemyError as exc:
            _quietly_roll_back(savepoint)
            self.catalog.forget()
            raise ArchiveError(
                f"could not write to the archive: {_db_reason(exc)}; files already imported are kept"
            ) from None

    def _reject(self, error: RecordError, summary: ImportSummary) -> None:
        summary.rejected += 1
        if len(summary.errors) < MAX_KEPT_ERRORS:
            summary.errors.append(str(error))
        self._on_error(error)
        if self.strict:
            raise StrictAbort(
                f"stopped at the first bad file (--strict); nothing from this run was written: {error}"
            )

    def _after_import(self, conn: Connection, summary: ImportSummary) -> None:
        """Refresh the query planner's statistics after imports that added a lot."""
        if summary.new + summary.updated >= 1000 and conn.dialect.name == "sqlite":
            self._on_stage("Updating statistics")
            # SQLite-specific: cheap, and only re-analyzes tables whose size changed a lot.
            # Statistics are an optimization: if the archive is busy, skip them.
            try:
                with conn.begin():
                    conn.exec_driver_sql("PRAGMA optimize")
            except OperationalError:
                pass


class _InFlight:
    """Files sent to be parsed but not written yet, so the database cannot know them."""

    def __init__(self) -> None:
        self.paths: dict[str, str] = {}
        self.hashes: dict[str, int] = {}

    def unchanged(self, path: str, digest: str, latest: dict[str, str], imported: set[str]) -> bool:
        """A file is unchanged when its path last brought this content, or (for a path
        never imported) when another file already brought it: a copy.

        So a file edited back to an earlier version is applied again, while two
        files about the same article do not take turns on every re-import.
        """
        last = self.paths.get(path) or latest.get(path)
        if last is not None:
            return last == digest
        return digest in imported or digest in self.hashes

    def add(self, path: str, digest: str) -> None:
        self.paths[path] = digest
        self.hashes[digest] = self.hashes.get(digest, 0) + 1

    def discard(self, path: str, digest: str) -> None:
        if self.paths.get(path) == digest:
            del self.paths[path]
        count = self.hashes.get(digest, 0) - 1
        if count > 0:
            self.hashes[digest] = count
        else:
            self.hashes.pop(digest, None)


def _quietly_roll_back(transaction: Any) -> None:
    """Roll back, even when SQLite already did (a full disk rolls back the whole
    transaction, and with it every savepoint): the error that caused it matters."""
    if not transaction.is_active:
        return
    with contextlib.suppress(SQLAlchemyError):
        transaction.rollback()


def _busy_aware(step: Callable[[], Any]) -> Any:
    """Run a BEGIN or COMMIT; a write lock that stays taken becomes a clear error."""
    try:
        return step()
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise BusyError(
                "the archive is busy: another process kept it locked for "
                f"{BUSY_TIMEOUT_MS / 1000:g} s; files already imported are kept, run the import again"
            ) from None
        raise


# A file as read: (path, bytes and their SHA-256, or the error that kept it unread).
_File = tuple[str, "bytes | RecordError", "str | None"]


def _read_files(paths: list[str], max_bytes: int) -> list[_File]:
    files: list[_File] = []
    for path in paths:
        try:
            data = read_source(path, max_bytes)
        except RecordError as error:
            files.append((path, error, None))
            continue
        files.append((path, data, content_hash(data)))
    return files


def _read_ahead(chunks: Iterable[list[str]], max_bytes: int) -> Iterator[list[_File]]:
    """Read and hash the next chunk of files in a thread while this one is written.

    Both let go of the GIL (system calls; hashlib for more than 2 KB), so they run
    beside the writer instead of taking its time (3% of it at 30,000 records).
    The first two chunks are read here, without the thread: the parser processes
    are usually forked when the second is submitted, and it is safer to fork a
    process before it has other threads (the child could inherit a lock one of
    them held).
    """
    chunks = iter(chunks)
    for chunk in itertools.islice(chunks, 2):
        yield _read_files(chunk, max_bytes)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-read")
    ahead: deque[Future[list[_File]]] = deque()
    try:
        for chunk in chunks:
            ahead.append(pool.submit(_read_files, chunk, max_bytes))
            if len(ahead) > 1:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunked(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _imported_hashes(conn: Connection, digests: list[str]) -> set[str]:
    return {
        row[0]
        for row in select_in(
            conn, "SELECT sha256 FROM source_file WHERE sha256 IN ({marks})", digests
        )
    }


def _latest_hashes(conn: Connection, paths: list[str]) -> dict[str, str]:
    """The content each path brought the last time it was imported."""
    sql = (
        "SELECT s.path, s.sha256 FROM source_file s WHERE s.path IN ({marks})"
        " AND s.id = (SELECT max(t.id) FROM source_file t WHERE t.path = s.path)"
    )
    return dict(select_in(conn, sql, paths))


def _known_paths(conn: Connection, paths: list[str]) -> set[str]:
    real = [p for p in paths if p != STDIN]
    return {
        row[0]
        for row in select_in(
            conn, "SELECT DISTINCT path FROM source_file WHERE path IN ({marks})", real
        )
    }


def _db_reason(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
