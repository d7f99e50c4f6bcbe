"""A reader in its own process, driven line by line, for test_readers.py.

    python reading_process.py DB

Each line on stdin is a command; each answer is one JSON line on stdout:
- `open KIND` opens the archive the way one of archive's readers does and reads a
  snapshot: KIND `reader` (queries.open_reader: the query commands and the
  library, one read transaction), `sql` (readonly_sql.open_query: `archive sql`,
  a statement at a time) or `serve` (the connection `archive serve` gives
  Datasette, in a transaction). Answers {"snapshot": [...]} or, when the archive
  refuses to open, {"refused": message, "exit": the CLI's exit status for it}.
- `check` reads the snapshot again on what is open: {"snapshot": [...]}.
- `close` closes it: {"closed": true}.
A failure while reading answers {"failed": "Type: message"}; the test judges it.

A snapshot is [files, files' distinct articles, own articles, bytes of text]: at
every commit of an import, the files' distinct articles are the own (non-stub)
articles, and in one read transaction the snapshot never changes. Summing the text
reads every page of source_file, so a read that mixes pages of two states shows.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

SNAPSHOT = (
    "SELECT (SELECT count(*) FROM source_file),"
    " (SELECT count(DISTINCT article_id) FROM source_file),"
    " (SELECT count(*) FROM article WHERE is_stub = 0),"
    " (SELECT sum(length(text)) FROM source_file)"
)


class Opened:
    """One open reader of a kind; snapshot() reads on it."""

    def __init__(self, db: str, kind: str) -> None:
        self.kind = kind
        if kind == "reader":
            from archive.query.reader import open_reader

            self.handle: Any = open_reader(db)
        elif kind == "sql":
            from archive.query.readonly_sql import open_query

            self.handle = open_query(db)
        else:
            from archive.serve import server

            path = server.archive_path(db)
            database = server.datasette_for(path).databases[path.stem]
            self.handle = database
            self.connection = database.connect()
            self.connection.isolation_level = None
            self.connection.execute("BEGIN")

    def snapshot(self) -> list[int]:
        if self.kind == "reader":
            _, rows = self.handle.execute(SNAPSHOT)
            return list(next(rows))
        if self.kind == "sql":
            return list(next(iter(self.handle.run(SNAPSHOT).rows)))
        return list(self.connection.execute(SNAPSHOT).fetchone())

    def close(self) -> None:
        if self.kind == "serve":
            self.connection.close()
        self.handle.close()


def answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(db: str) -> None:
    from archive.errors import ArchiveError

    opened: Opened | None = None
    for line in sys.stdin:
        command, _, kind = line.strip().partition(" ")
        try:
            if command == "open":
                try:
                    opened = Opened(db, kind)
                except ArchiveError as exc:
                    answer({"refused": str(exc), "exit": exc.exit_code})
                    continue
                answer({"snapshot": opened.snapshot()})
            elif command == "check":
                assert opened is not None
                answer({"snapshot": opened.snapshot()})
            elif command == "close":
                if opened is not None:
                    opened.close()
                opened = None
                answer({"closed": True})
        except Exception as exc:  # reported, not raised: the test says what went wrong
            where = traceback.format_exc(limit=-2).strip().splitlines()[-3:]
            answer({"failed": f"{type(exc).__name__}: {exc}", "where": where})


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main(sys.argv[1])
