"""Revision 0007 (files and versions) carries an archive made at 0006 forward with
nothing lost.

The 0006 archive is built in the test: the sample and the real records imported,
then the schema taken down to 0006, which is what that version wrote (no
collections, no file identities, no aliases). Upgrading keeps every row of every
table; dump writes back every file that was imported, byte for byte; importing
the same folders again finds every file unchanged (by the path they were
imported from), and a changed file still updates its article.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DATA, REAL, Archive, record, write

NEW_COLUMNS = {
    "source_file": {"collection_id", "rel_path", "commit_id", "committed_at", "removed_at"},
    "article": {"removed_at"},
    "article_url": {"alias"},
}


def _tables_without_new_columns(archive: Archive) -> dict[str, list[tuple]]:
    tables = [
        name
        for (name,) in archive.rows(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'article_fts%' AND name NOT IN ('collection', 'alembic_version')"
        )
    ]
    found = {}
    for table in tables:
        columns = [
            row[1]
            for row in archive.rows(f"PRAGMA table_info({table})")
            if row[1] not in NEW_COLUMNS.get(table, set())
        ]
        found[table] = sorted(archive.rows(f"SELECT {', '.join(columns)} FROM {table}"), key=repr)
    return found


def test_a_0006_archive_upgrades_with_every_row_and_file(archive, tmp_path) -> None:
    folders = []
    for source in (DATA, REAL):
        folder = tmp_path / source.name
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("README*"))
        folders.append(folder)
        assert archive.run("import", str(folder)).exit_code == 0
    down = archive.run("db", "downgrade", "0006")
    assert down.exit_code == 0, down.output
    at_0006 = _tables_without_new_columns(archive)
    assert "collection" not in {r[0] for r in archive.rows("SELECT name FROM sqlite_master")}

    up = archive.run("db", "upgrade")
    assert up.exit_code == 0, up.output
    assert _tables_without_new_columns(archive) == at_0006
    assert archive.rows("PRAGMA foreign_key_check") == []
    assert archive.rows("PRAGMA integrity_check") == [("ok",)]

    out = tmp_path / "out"
    dumped = archive.run("dump", str(out))
    assert dumped.exit_code == 0, dumped.output
    imported = sorted(p.read_bytes() for f in folders for p in f.iterdir() if p.is_file())
    assert sorted(p.read_bytes() for p in out.rglob("*") if p.is_file() and
                  not p.name.startswith(".")) == imported  # fmt: skip

    # Importing the same folders again: every file unchanged, found by its path.
    before = archive.count("source_file")
    for folder in folders:
        again = archive.run("import", str(folder))
        assert again.exit_code == 0 and " 0 new, 0 updated," in again.output, again.output
    assert archive.count("source_file") == before
    # A changed file is a new version of the same file, and its article follows it.
    changed = write(folders[0], "zz_added_after_upgrade.md", record("https://example.com/u"))
    assert archive.run("import", str(folders[0])).exit_code == 0
    edited = Path(changed)
    edited.write_text(record("https://example.com/u-moved", title='"Moved"'))
    assert archive.run("import", str(folders[0])).exit_code == 0
    assert archive.rows("SELECT title FROM article WHERE url = 'https://example.com/u-moved'") == [
        ("Moved",)
    ]
    assert archive.rows("SELECT count(*) FROM article WHERE url LIKE 'https://example.com/u%'") == [
        (1,)
    ]
