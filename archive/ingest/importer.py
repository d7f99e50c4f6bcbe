"""Import record files: find them, skip what is already in, parse in parallel, write in batches.

The pipeline, one piece per module: files.py walks the paths and reads and hashes
each file; changes.py decides which contents are new, so unchanged files are
skipped without parsing; parsers.py parses chunks of the rest in worker
processes; they come back in order to this process, the only writer, which applies
each chunk in one savepoint (writer.write_batch) and commits as transactions.py
decides. summary.py counts what happened.

All or nothing per file: a file that fails to parse or validate is reported and
left out; if writing a chunk fails on a constraint, the chunk is rolled back and
retried one file at a time, so only the offending file is rejected. A killed
import keeps every committed chunk, and running it again completes the work
(finished files are recognised by their content hash).

Interruption (the CLI's Ctrl-C): `request_stop` ends the run after the chunk being
written, commits it, builds the deferred indexes and returns; `abort` ends it at
once, rolls back what is not committed, skips the index build (the next import
does it) and raises KeyboardInterrupt. Either way every committed file stays.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArchiveError, BusyError, RecordError
from ..store import deferred_indexes
from ..store.write_connection import (
    Archive,
    Connection,
    DatabaseError,
    IntegrityError,
    OperationalError,
)
from . import changes
from .files import File, read_ahead
from .parsers import Parsers, default_workers, fewer_collections
from .places import REMOVAL, Place, located, stdin_place
from .records import MAX_FILE_BYTES, Record
from .stories import on_batch
from .summary import ImportSummary
from .transactions import (
    CommitPolicy,
    Stopped,
    begin_write,
    busy_aware,
    db_reason,
    quietly_roll_back,
)
from .versions import Versions
from .writer import Catalog, FileOutcome, Version, write_batch

BATCH_FILES = 250
# Chunks parsed ahead of the writer: enough to keep both parsers busy, few enough
# that memory stays flat.
PREFETCH = 2
# See transactions.py for why a transaction spans many chunks.
COMMIT_FILES = 5000
COMMIT_SECONDS = 5.0
# The writer's page cache while importing (KiB, SQLite's negative cache_size): the
# indexes that grow with the archive stay in memory between commits.
WRITER_CACHE_KIB = 65_536
# An import that changed at least this many files refreshes the planner's statistics.
ANALYZE_AFTER_FILES = 1000
# SQLite: how often (in virtual machine steps) a running statement asks whether the
# import was aborted; rare enough to cost nothing, often enough to stop a long
# CREATE INDEX within a fraction of a second.
ABORT_CHECK_STEPS = 10_000


class StrictAbort(ArchiveError):
    """--strict: the first bad file stops the run and nothing from the run is kept."""


@dataclass
class _Events:
    """What a caller (the CLI's progress bar) is told while an import runs."""

    on_file: Callable[[str], None]
    on_error: Callable[[RecordError], None]
    # Steps after the last file that can take a while on a large archive.
    on_stage: Callable[[str], None]
    # True while another process holds the write lock and this run waits for it.
    on_wait: Callable[[bool], None]


@dataclass
class Batch:
    """Files read for one chunk, each with its place; for git, the commit's deletions
    (applied after its files) and the commit, once its last file is in the batch."""

    files: list[File]
    places: list[Place | None]
    removed: list[Place] = field(default_factory=list)
    done_commit: tuple[str, str] | None = None  # (collection key, commit id)


@dataclass
class _Chunk:
    # Per file, in order: (path, sha256 or None if unreadable, index into the parsed
    # results or None if the content is already in the archive).
    order: list[tuple[str, str | None, int | None]]
    parsed: Any  # result of Parsers.submit: list[Record | RecordError]
    failures: dict[str, RecordError]
    contents: list[bytes]  # of the parsed files, by the same index
    places: list[Place]  # of the parsed files, by the same index
    batch: Batch


class Importer:
    """Writes record files into an open archive. Usable without the CLI:

    archive = opening.open_archive("news.db"); Importer(archive).run(["data/"]); archive.close()
    """

    def __init__(
        self,
        archive: Archive,
        *,
        strict: bool = False,
        workers: int | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        commit_files: int | None = None,
        stories: bool = True,
    ) -> None:
        self.archive = archive
        self.strict = strict
        self.workers = workers if workers is not None else default_workers()
        self.max_file_bytes = max_file_bytes
        self.commit_files = commit_files or COMMIT_FILES
        # Providers and topics by key, kept between runs (refreshed when others add some).
        self.catalog = Catalog()
        if stories:  # README: Stories; off for `import --no-stories`
            self.catalog.on_written = on_batch
        # The current (or last) run's counts, also readable while it runs and after
        # it was interrupted.
        self.summary = ImportSummary()
        self._stop = False
        self._abort = False

    def request_stop(self) -> None:
        """Stop the running import after the chunk being written, keeping everything
        written (may be called from a signal handler: it only sets a flag)."""
        self._stop = True

    def abort(self) -> None:
        """Stop at once: roll back what is not committed, skip the index build."""
        self._stop = self._abort = True

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def aborted(self) -> bool:
        return self._abort

    def run(
        self,
        paths: Iterable[str],
        *,
        on_file: Callable[[str], None] | None = None,
        on_error: Callable[[RecordError], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
        on_wait: Callable[[bool], None] | None = None,
        batches: Callable[[Connection], Iterable[Batch]] | None = None,
    ) -> ImportSummary:
        """Import the record files under `paths`; bad files are counted, not raised
        (except with `strict`). Raises ArchiveError if the archive cannot be written,
        KeyboardInterrupt after `abort`. After `request_stop` it returns early, with
        `interrupted` set in the summary. `batches`, given a reading connection,
        supplies the files instead of `paths` (gitimport.py)."""
        events = _Events(
            on_file or (lambda _path: None),
            on_error or (lambda _error: None),
            on_stage or (lambda _stage: None),
            on_wait or (lambda _waiting: None),
        )
        self.summary = ImportSummary()
        try:
            # Reads (which files are new) use their own connection; the writer holds the
            # write lock for one transaction at a time, so two imports can interleave.
            with (
                fewer_collections(),
                self.archive.writer(cache_kib=WRITER_CACHE_KIB) as conn,
                self.archive.connect() as reader,
                self._abortable(conn),
            ):
                run = _Run(self, conn, reader, events)
                run.repair_indexes()
                run.import_files(paths, None if batches is None else batches(reader))
                _refresh_statistics(
                    conn,
                    run.summary.new + run.summary.updated,
                    events,
                    lambda: self.stop_requested,
                )
            if self._abort:
                raise KeyboardInterrupt
        except (DatabaseError, ArchiveError):
            # An aborted statement fails with "interrupted": that is the abort itself.
            if self._abort:
                self.summary.interrupted = True
                raise KeyboardInterrupt from None
            raise
        except KeyboardInterrupt:
            self.summary.interrupted = True
            raise
        finally:
            self._stop = self._abort = False
        return run.summary

    @contextlib.contextmanager
    def _abortable(self, conn: Connection) -> Any:
        """SQLite-specific: let `abort` stop a statement that is running.

        A Ctrl-C's Python handler cannot run while SQLite works (a CREATE INDEX over
        a large archive takes seconds); SQLite's progress handler calls back into
        Python every few thousand steps, the handler runs there, and a True answer
        stops the statement.
        """
        if conn.dialect.name != "sqlite":
            # psycopg cancels a running statement on KeyboardInterrupt by itself.
            yield
            return
        driver = conn.driver_connection
        driver.set_progress_handler(lambda: self._abort, ABORT_CHECK_STEPS)
        try:
            yield
        finally:
            driver.set_progress_handler(None, 0)


class _Run:
    """One import run: every piece of state it keeps, and the steps it takes."""

    def __init__(
        self, importer: Importer, conn: Connection, reader: Connection, events: _Events
    ) -> None:
        self.importer = importer
        self.strict = importer.strict
        self.catalog = importer.catalog
        self.conn = conn
        self.reader = reader
        self.events = events
        self.summary = importer.summary
        # Files written so far in this run (in order), committed or not.
        self.processed = 0
        self.in_flight = changes.InFlight()
        self.versions = Versions()
        self.parsers = Parsers(
            importer.workers,
            importer.max_file_bytes,
            stories=importer.catalog.on_written is not None,
        )
        self.commits = CommitPolicy(
            conn,
            max_files=importer.commit_files,
            max_seconds=COMMIT_SECONDS,
            on_commit=self._committed,
            on_wait=events.on_wait,
            stopping=lambda: importer.stop_requested,
        )
        with reader.begin():
            # A first import builds the query-only indexes at its end (deferred_indexes).
            self.defer_indexes = deferred_indexes.archive_is_empty(reader)
            self.interrupted = bool(deferred_indexes.missing(reader))
        self.indexes_dropped = False

    # --- the steps -------------------------------------------------------------

    def repair_indexes(self) -> None:
        """Build the indexes an earlier first import was killed before building."""
        if self.interrupted:
            self.events.on_stage("Building indexes")
            _build_indexes(self.conn, self.summary, self.events)
            self.events.on_stage("Importing")

    def import_files(self, paths: Iterable[str], batches: Iterable[Batch] | None) -> None:
        finished = False
        try:
            with contextlib.suppress(Stopped):
                self._import_batches(
                    batches
                    or _folder_batches(paths, self.summary.skip, self.importer.max_file_bytes)
                )
            if self.commits.open:
                self.commits.commit()
            finished = True
        except BaseException:
            self.commits.abandon()
            self.catalog.forget()
            raise
        finally:
            stopped = self.importer.stop_requested
            if stopped:
                # Chunks read or parsed ahead were not written: they were not seen.
                self.summary.files_seen = self.processed
                self.summary.interrupted = True
            self.parsers.close(wait=finished and not stopped)
            if self.indexes_dropped and not self.importer.aborted:
                self.events.on_stage("Building indexes")
                _build_indexes(self.conn, self.summary, self.events, quietly=not finished)

    def _import_batches(self, batches: Iterable[Batch]) -> None:
        pending: deque[_Chunk] = deque()
        with contextlib.closing(iter(batches)) as chunks:  # type: ignore[type-var]
            for batch in chunks:
                pending.append(self._submit(batch))
                if len(pending) > PREFETCH:
                    self._write_chunk(pending.popleft())
        while pending:
            self._write_chunk(pending.popleft())

    # --- one chunk ---------------------------------------------------------------

    def _submit(self, batch: Batch) -> _Chunk:
        """Send the chunk's new contents to the parsers; note what is unchanged or unreadable."""
        read: list[tuple[str, str | None, Place]] = []
        contents: dict[str, bytes] = {}
        failures: dict[str, RecordError] = {}
        for (path, data, digest), place in zip(batch.files, batch.places, strict=True):
            self.summary.files_seen += 1
            if isinstance(data, RecordError):
                failures[path] = data
                read.append((path, None, place or stdin_place("")))
                continue
            read.append((path, digest, place or stdin_place(digest)))  # type: ignore[arg-type]
            contents.setdefault(digest, data)  # type: ignore[arg-type]
        with self.reader.begin():
            latest = changes.latest_versions(
                self.reader,
                [(path, place) for path, digest, place in read if digest is not None],
                articles=False,
            )
        order: list[tuple[str, str | None, int | None]] = []
        to_parse: list[tuple[str, bytes]] = []
        places: list[Place] = []
        for path, digest, place in read:
            index = None
            if digest is not None and not self.in_flight.unchanged(place.identity, digest, latest):
                self.in_flight.add(place.identity, digest)
                index = len(to_parse)
                to_parse.append((path, contents[digest]))
                places.append(place)
            order.append((path, digest, index))
        return _Chunk(
            order, self.parsers.submit(to_parse), failures, [d for _, d in to_parse], places, batch
        )

    def _write_chunk(self, chunk: _Chunk) -> None:
        if self.importer.stop_requested:
            raise Stopped
        if self.commits.begin() and self.defer_indexes and not self.indexes_dropped:
            deferred_indexes.drop(self.conn)
            self.indexes_dropped = True
            # Pending until built: a second Ctrl-C may come anywhere before the build ends.
            self.summary.indexes_pending = True
        self._write(chunk)
        # --strict keeps the whole run in one transaction.
        if not self.strict and self.commits.due():
            self.commits.commit()

    def _write(self, chunk: _Chunk) -> None:
        parsed = chunk.parsed.get()
        records: list[Record] = []
        places: list[Place] = []
        for path, digest, index in chunk.order:
            result = chunk.failures.get(path) if digest is None else None
            if index is not None:
                result = parsed[index]
                if isinstance(result, Record):
                    result.text = chunk.contents[index].decode("utf-8")
            if isinstance(result, RecordError):
                self._reject(result)
            elif result is None:
                self.summary.unchanged += 1
            else:
                records.append(result)
                places.append(chunk.places[index])  # type: ignore[index]
        versions, copies = self.versions.of(self.conn, records, places)
        outcomes = _write_records(self.conn, self.catalog, records, versions)
        for record, version, outcome in zip(records, versions, outcomes, strict=True):
            if isinstance(outcome, RecordError):
                self._reject(outcome)
            else:
                self.summary.add(
                    record.source,
                    outcome,
                    version.status == "updated",
                    copy=version.status == "copy",
                )
                if version.status == "copy":
                    self.summary.copy(record.source, copies.get(record.sha256))
        if chunk.batch.removed:
            self.summary.removed += self.versions.remove(self.conn, chunk.batch.removed)
        if chunk.batch.done_commit is not None:
            self.versions.finish_commit(self.conn, *chunk.batch.done_commit)
        for (path, digest, index), place in zip(chunk.order, self._identities(chunk), strict=True):
            if index is not None:
                self.commits.written(place, digest)  # type: ignore[arg-type]
            self.processed += 1
            self.events.on_file(path)

    def _identities(self, chunk: _Chunk) -> list[Any]:
        return [
            chunk.places[index].identity if index is not None else None
            for _path, _digest, index in chunk.order
        ]

    def _committed(self, files: list[tuple[str, str]]) -> None:
        self.summary.saved = self.processed
        # Only now can the reading connection see these files.
        for path, digest in files:
            self.in_flight.discard(path, digest)

    def _reject(self, error: RecordError) -> None:
        self.summary.reject(error)
        self.events.on_error(error)
        if self.strict:
            raise StrictAbort(
                f"stopped at the first bad file (--strict); nothing from this run was written: {error}"
            )


def _folder_batches(
    paths: Iterable[str], skip: Callable[..., Any], max_file_bytes: int
) -> Iterable[Batch]:
    """The files under `paths` in chunks of BATCH_FILES, read ahead."""
    places: deque[tuple[list[Place | None], list[Place]]] = deque()

    def chunks() -> Iterable[list[str]]:
        chunk: list[tuple[str, Place | None]] = []
        for path, place in located(paths, skip):
            if path == REMOVAL:  # a dumped folder's deletion: after the files before it
                places.append(([p for _, p in chunk], [place]))  # type: ignore[list-item]
                yield [p for p, _ in chunk]
                chunk = []
                continue
            chunk.append((path, place))
            if len(chunk) >= BATCH_FILES:
                places.append(([p for _, p in chunk], []))
                yield [p for p, _ in chunk]
                chunk = []
        if chunk:
            places.append(([p for _, p in chunk], []))
            yield [p for p, _ in chunk]

    with contextlib.closing(read_ahead(chunks(), max_file_bytes)) as files:
        for chunk_files in files:
            chunk_places, removed = places.popleft()
            yield Batch(chunk_files, chunk_places, removed)


def _refresh_statistics(
    conn: Connection, changed: int, events: _Events, stopping: Callable[[], bool]
) -> None:
    """Refresh the query planner's statistics after imports that changed a lot."""
    if changed < ANALYZE_AFTER_FILES or stopping():
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # Cheap: only re-analyzes tables whose size changed a lot.
        statement = "PRAGMA optimize"
    elif dialect == "postgresql":
        # Autovacuum analyzes too, but only after a delay and a threshold of its
        # own: queries run right after a large import would plan on stale counts.
        statement = "ANALYZE"
    else:
        return
    events.on_stage("Updating statistics")
    # Statistics are an optimization: if the archive is busy, skip them.
    try:
        transaction = begin_write(
            conn,
            on_wait=events.on_wait,
            stopping=stopping,
        )
        with transaction:
            conn.exec_driver_sql(statement)
    except (OperationalError, BusyError, Stopped):
        pass


def _write_records(
    conn: Connection, catalog: Catalog, records: list[Record], versions: list[Version]
) -> list[FileOutcome | RecordError]:
    """Write one chunk in a savepoint; a constraint failure is narrowed to its file."""
    if not records:
        return []
    savepoint = conn.begin_nested()
    try:
        outcomes: list[FileOutcome | RecordError] = list(
            write_batch(conn, catalog, records, versions)
        )
        savepoint.commit()
        return outcomes
    except IntegrityError as exc:
        quietly_roll_back(savepoint)
        catalog.forget()
        if len(records) == 1:
            return [
                RecordError(f"could not be written: {db_reason(exc)}", source=records[0].source)
            ]
        # Find the file that broke the chunk: retry one file at a time.
        results: list[FileOutcome | RecordError] = []
        for record, version in zip(records, versions, strict=True):
            results += _write_records(conn, catalog, [record], [version])
        return results
    except DatabaseError as exc:
        quietly_roll_back(savepoint)
        catalog.forget()
        raise ArchiveError(
            f"could not write to the archive: {db_reason(exc)}; files already imported are kept"
        ) from None


def _build_indexes(
    conn: Connection, summary: ImportSummary, events: _Events, *, quietly: bool = False
) -> None:
    """Build the query indexes a first import deferred (see deferred_indexes)."""
    try:
        transaction = begin_write(conn, on_wait=events.on_wait)
        try:
            deferred_indexes.build(conn)
            busy_aware(transaction.commit)
            summary.indexes_pending = False
        except BaseException:
            quietly_roll_back(transaction)
            raise
    except DatabaseError as exc:
        summary.indexes_pending = True
        # After a failed import (a full disk, say) this may fail too: the first
        # error is the one to report, and the next import builds them.
        if not quietly:
            raise ArchiveError(
                f"could not build the query indexes: {db_reason(exc)}; the records"
                " are kept, and the next import builds them"
            ) from None
    except BaseException:
        summary.indexes_pending = True
        if not quietly:
            raise
