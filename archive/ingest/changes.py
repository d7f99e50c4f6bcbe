"""Which files bring content the archive does not have yet.

A file is unchanged when its path last brought the same content, or (for a path
never imported) when another file already brought it: a copy. Files that are
parsed but not yet committed are tracked here too, because the database cannot
know them yet.
"""

from __future__ import annotations

from sqlalchemy import Connection

from .files import STDIN
from .writer import select_in


class InFlight:
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


def imported_hashes(conn: Connection, digests: list[str]) -> set[str]:
    return {
        row[0]
        for row in select_in(
            conn, "SELECT sha256 FROM source_file WHERE sha256 IN ({marks})", digests
        )
    }


def latest_hashes(conn: Connection, paths: list[str]) -> dict[str, str]:
    """The content each path brought the last time it was imported."""
    sql = (
        "SELECT s.path, s.sha256 FROM source_file s WHERE s.path IN ({marks})"
        " AND s.id = (SELECT max(t.id) FROM source_file t WHERE t.path = s.path)"
    )
    return dict(select_in(conn, sql, paths))


def known_paths(conn: Connection, paths: list[str]) -> set[str]:
    real = [p for p in paths if p != STDIN]
    return {
        row[0]
        for row in select_in(
            conn, "SELECT DISTINCT path FROM source_file WHERE path IN ({marks})", real
        )
    }
