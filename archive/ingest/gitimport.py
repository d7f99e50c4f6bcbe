"""`archive import --git`: a repository's history replayed as versions of its files.

Each first-parent commit of HEAD, oldest first, brings the record files it changed
as versions (with the commit and its time) and marks the files it deleted removed.
The collection remembers the last commit imported, so a second run reads only the
commits after it (all of them again if the history was rewritten: the files whose
last version has the same content are then unchanged).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import RecordError
from ..store.write_connection import Connection
from .files import File
from .gitlog import Repository
from .importer import BATCH_FILES, Batch, Importer
from .places import Collection, Place
from .records import content_hash
from .summary import ImportSummary


def git_collection(location: str) -> Collection:
    absolute = os.path.abspath(location).rstrip("/")
    name = os.path.basename(absolute)
    for suffix in (".bundle", ".git"):
        name = name.removesuffix(suffix)
    return Collection("git:" + absolute, "git", name or "repository")


def last_commit(conn: Connection, collection: Collection) -> str | None:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    with conn.begin():
        return conn.exec_driver_sql(
            f"SELECT last_commit FROM collection WHERE key = {mark}", (collection.key,)
        ).scalar()


def git_batches(
    repository: Repository,
    collection: Collection,
    after: str | None,
    folder: str | None,
    max_bytes: int,
    on_commit: Callable[[int, int], None],
) -> Iterator[Batch]:
    """The commits after `after`, as the importer's batches of files."""
    if after is not None and not repository.is_ancestor(after):
        after = None
    commits = repository.commits(after, folder)
    on_commit(0, len(commits))
    for number, commit in enumerate(commits, start=1):
        files: list[File] = []
        places: list[Place | None] = []
        for path, blob in commit.changed:
            data = repository.blob(blob)
            if len(data) > max_bytes:
                error = RecordError(
                    f"file is larger than {max_bytes} bytes (see --max-file-size)", source=path
                )
                files.append((path, error, None))
            else:
                files.append((path, data, content_hash(data)))
            places.append(Place(collection, path, commit.id, commit.time))
        removed = [Place(collection, path, commit.id, commit.time) for path in commit.deleted]
        starts = range(0, max(len(files), 1), BATCH_FILES)
        for start in starts:
            last = start == starts[-1]
            yield Batch(
                files[start : start + BATCH_FILES],
                places[start : start + BATCH_FILES],
                removed if last else [],
                (collection.key, commit.id) if last else None,
            )
        on_commit(number, len(commits))


def import_git(
    importer: Importer,
    location: str,
    folder: str | None = None,
    *,
    on_commit: Callable[[int, int], None] | None = None,
    **events: Any,
) -> ImportSummary:
    """Import the history of the repository (or bundle) at `location`."""
    collection = git_collection(location)
    report = on_commit or (lambda _done, _total: None)

    def counted(done: int, total: int) -> None:
        importer.summary.commits = done
        report(done, total)

    with Repository(location) as repository:

        def batches(reader: Connection) -> Iterator[Batch]:
            after = last_commit(reader, collection)
            return git_batches(
                repository, collection, after, folder, importer.max_file_bytes, counted
            )

        return importer.run((), batches=batches, **events)
