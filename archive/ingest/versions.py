"""What each record file is to the archive: a new file, a new version of one, or a
copy; and, for git, the files a commit deleted (their articles marked removed).

Asked on the writer's connection, inside its transaction, so that it sees the
files of earlier chunks of the same run before they are committed.
"""

from __future__ import annotations

import datetime as dt

from ..store.write_connection import Connection, converter
from . import changes
from .places import Place
from .records import Record
from .writer import Version, placeholder

# An article is removed when its file is deleted and no other file that still
# exists describes it (a file's last version is the one with the highest id).
_REMOVE_ARTICLE = (
    "UPDATE article SET removed_at = {m} WHERE id = {m} AND source_file_id = {m}"
    " AND NOT EXISTS (SELECT 1 FROM source_file s WHERE s.article_id = article.id"
    " AND s.removed_at IS NULL AND s.collection_id IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM source_file t WHERE t.collection_id = s.collection_id"
    " AND t.rel_path = s.rel_path AND t.id > s.id))"
)


class Versions:
    """The versions one import run writes."""

    def __init__(self) -> None:
        self.collections: dict[str, int] = {}

    def of(
        self, conn: Connection, records: list[Record], places: list[Place]
    ) -> tuple[list[Version], dict[str, str]]:
        """Each record's Version, and the earlier file of each copied content."""
        missing = {p.collection for p in places if p.collection.key not in self.collections}
        if missing:
            self.collections.update(changes.ensure_collections(conn, missing))
        latest = changes.latest_versions(
            conn, [(r.source, p) for r, p in zip(records, places, strict=True)]
        )
        copies = changes.imported_hashes(conn, [r.sha256 for r in records])
        versions = []
        seen: dict[tuple[str, str], int | None] = {}
        for record, place in zip(records, places, strict=True):
            known = latest.get(place.identity)
            if place.identity in seen or known is not None:
                status = "updated"
            elif record.sha256 in copies:
                status = "copy"
            else:
                status = "new"
                copies[record.sha256] = record.source
            seen[place.identity] = None
            versions.append(
                Version(
                    collection_id=self.collections[place.collection.key],
                    rel_path=place.rel_path,
                    status=status,
                    previous_article=known.article_id if known is not None else None,
                    commit_id=place.commit_id,
                    committed_at=place.committed_at,
                )
            )
        return versions, copies

    def remove(self, conn: Connection, places: list[Place]) -> int:
        """Mark deleted files (their last versions) and the articles only they showed;
        return how many files were marked."""
        m = placeholder(conn)
        removed = 0
        for place in places:
            collection_id = self.collections.get(place.collection.key)
            if collection_id is None:
                collection_id = changes.collection_ids(conn, [place.collection.key]).get(
                    place.collection.key
                )
            if collection_id is None:
                continue
            row = conn.exec_driver_sql(
                "SELECT id, article_id, removed_at FROM source_file WHERE collection_id ="
                f" {m} AND rel_path = {m} ORDER BY id DESC LIMIT 1",
                (collection_id, place.rel_path),
            ).first()
            if row is None or row[2] is not None:
                continue  # never imported (a rejected file), or already removed
            source_id, article_id, _ = row
            stamp = _stamp(conn, place)
            conn.exec_driver_sql(
                f"UPDATE source_file SET removed_at = {m} WHERE id = {m}", (stamp, source_id)
            )
            if article_id is not None:
                conn.exec_driver_sql(_REMOVE_ARTICLE.format(m=m), (stamp, article_id, source_id))
                # The topic links are derived from the record: a removed article drops
                # out of the topic counts; they come back with the file.
                conn.exec_driver_sql(
                    f"DELETE FROM article_topic WHERE article_id = {m} AND EXISTS (SELECT 1"
                    f" FROM article WHERE article.id = {m} AND article.removed_at IS NOT NULL)",
                    (article_id, article_id),
                )
            removed += 1
        return removed

    def finish_commit(self, conn: Connection, collection_key: str, commit_id: str) -> None:
        """Remember the last commit imported: the next import starts after it."""
        m = placeholder(conn)
        conn.exec_driver_sql(
            f"UPDATE collection SET last_commit = {m} WHERE key = {m}", (commit_id, collection_key)
        )


def _stamp(conn: Connection, place: Place) -> object:
    """The removal time as the column stores it (the writer's own conversion)."""
    # A folder's deletion (a dumped folder's order file) has no commit time: now.
    when = place.committed_at or dt.datetime.now(dt.timezone.utc)
    process = converter("timestamp", conn.dialect)
    return process(when) if process else when
