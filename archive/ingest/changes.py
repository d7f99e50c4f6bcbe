"""Which files bring content the archive does not have yet.

A file is (collection, path inside it) (places.py). It is unchanged when its last
version has the same content; a new file whose bytes another file brought is a
copy, recorded and applied like any new file. Files that are parsed but not yet
committed are tracked here too, because the database cannot know them yet.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from ..store.write_connection import Connection
from .files import STDIN
from .places import Collection, Place
from .writer import placeholder, select_in


class InFlight:
    """Files sent to be parsed but not written yet, so the database cannot know them."""

    def __init__(self) -> None:
        self.paths: dict[Hashable, str] = {}
        self.hashes: dict[str, int] = {}

    def unchanged(self, path: Hashable, digest: str, latest: dict[Hashable, Latest]) -> bool:
        """A file is unchanged when its last version brought this content (and it was
        not deleted since). So a file edited back to an earlier version is applied
        again, and a copy at a new path is a new file."""
        last = self.paths.get(path)
        if last is not None:
            return last == digest
        known = latest.get(path)
        return known is not None and known.sha256 == digest and not known.removed

    def add(self, path: Hashable, digest: str) -> None:
        self.paths[path] = digest
        self.hashes[digest] = self.hashes.get(digest, 0) + 1

    def discard(self, path: Hashable, digest: str) -> None:
        if self.paths.get(path) == digest:
            del self.paths[path]
        count = self.hashes.get(digest, 0) - 1
        if count > 0:
            self.hashes[digest] = count
        else:
            self.hashes.pop(digest, None)


def imported_hashes(conn: Connection, digests: list[str]) -> dict[str, str]:
    """Of `digests`, those some file brought before, each with the first such file."""
    rows = select_in(
        conn,
        "SELECT sha256, min(path) FROM source_file WHERE sha256 IN ({marks}) GROUP BY sha256",
        digests,
    )
    return dict(rows)


@dataclass(frozen=True)
class Latest:
    """A file's last version: its content, the article it described, whether deleted."""

    sha256: str
    article_id: int | None
    removed: bool


def collection_ids(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    return dict(select_in(conn, "SELECT key, id FROM collection WHERE key IN ({marks})", keys))


def ensure_collections(conn: Connection, collections: Iterable[Collection]) -> dict[str, int]:
    """Each collection's id, adding the ones the archive does not have yet."""
    wanted = {c.key: c for c in collections}
    ids = collection_ids(conn, wanted)
    mark = placeholder(conn)
    for key, collection in wanted.items():
        if key not in ids:
            conn.exec_driver_sql(
                f"INSERT INTO collection (key, kind, name) VALUES ({mark}, {mark}, {mark})",
                (key, collection.kind, collection.name),
            )
            ids.update(collection_ids(conn, [key]))
    return ids


def latest_versions(
    conn: Connection, places: list[tuple[str, Place]], *, articles: bool = True
) -> dict[tuple[str, str], Latest]:
    """The last version of each file, by identity. Files imported before files had
    identities (collection_id NULL, revision 0007) are found by the path given; their
    articles (which only the writer needs) only with `articles`.

    Both reads are index-only: the rows hold each file's text."""
    ids = collection_ids(conn, {place.collection.key for _, place in places})
    by_collection: dict[int, list[str]] = {}
    for _, place in places:
        if place.collection.key in ids:
            by_collection.setdefault(ids[place.collection.key], []).append(place.rel_path)
    found: dict[tuple[int | None, str], Latest] = {}
    for collection_id, rel_paths in by_collection.items():
        rows = select_in(
            conn,
            "SELECT s.rel_path, s.sha256, s.article_id, s.removed_at FROM source_file s"
            f" WHERE s.collection_id = {int(collection_id)} AND s.rel_path IN ({{marks}})"
            " AND s.id = (SELECT max(t.id) FROM source_file t"
            " WHERE t.collection_id = s.collection_id AND t.rel_path = s.rel_path)",
            rel_paths,
        )
        for rel_path, sha256, article_id, removed_at in rows:
            found[(collection_id, rel_path)] = Latest(sha256, article_id, removed_at is not None)
    legacy = select_in(
        conn,
        f"SELECT s.path, s.sha256, {'s.article_id' if articles else 'NULL'} FROM source_file s"
        " WHERE s.path IN ({marks}) AND s.collection_id IS NULL AND s.id ="
        " (SELECT max(t.id) FROM source_file t WHERE t.path = s.path)",
        [path for path, _ in places if path != STDIN],
    )
    for path, sha256, article_id in legacy:
        found[(None, path)] = Latest(sha256, article_id, False)
    latest: dict[tuple[str, str], Latest] = {}
    for path, place in places:
        known = found.get((ids.get(place.collection.key), place.rel_path)) or found.get(
            (None, path)
        )
        if known is not None:
            latest[place.identity] = known
    return latest
