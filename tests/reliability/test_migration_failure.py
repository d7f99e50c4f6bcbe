"""A migration that fails half-way leaves the archive as it was; data survives every migration.

`archive db upgrade` backs the file up first and runs the migration in one
transaction: when a step fails, the schema is still at the old revision with
nothing of the new one left behind, the user gets one line naming what failed
and where the backup is, and fixing the cause and re-running completes it.
"""

from __future__ import annotations

import re
import sqlite3

from conftest import DATA, imported
from reliability_checks import assert_sound, escaped

from archive.store import database
from archive.store.models import TABLE_NAMES
from archive.store.schema_version import HEAD_REVISION

HEAD = HEAD_REVISION
# What 0002 creates; none of it may survive a failed 0002.
CREATED_BY_0002 = {
    ("index", "ix_article_id_provider_id_published_at_is_stub"),
    ("view", "article_summary"),
    ("view", "topic_article"),
    ("view", "provider_summary"),
    ("view", "related_summary"),
    ("table", "article_fts"),
    ("trigger", "article_fts_insert"),
    ("trigger", "article_fts_delete"),
    ("trigger", "article_fts_update"),
}


# The tables every revision has. Later ones add `collection` (0007: files and
# versions, tested in test_migration_0007.py) and the story tables (0009: derived,
# refilled by `archive stories --missing`, tested in test_migrations.py).
LATER_TABLES = {"collection", "story", "article_story", "story_band"}
CORE_TABLES = tuple(t for t in TABLE_NAMES if t not in LATER_TABLES)


def columns(archive) -> dict[str, list[str]]:
    tables = [
        name for (name,) in archive.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    return {t: [row[1] for row in archive.rows(f"PRAGMA table_info({t})")] for t in tables}


# Revisions before 0006 stored instants as `2020-08-17 18:08:00.000000`, 0006 and later
# as `2020-08-17T18:08:00Z`: the same value, which a downgrade must keep.
_OLD_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.0{6}")


def _instant(value: object) -> object:
    if isinstance(value, str) and _OLD_TIMESTAMP.fullmatch(value):
        return _OLD_TIMESTAMP.sub(r"\1T\2Z", value)
    return value


def projection(archive, table: str, names: list[str]) -> list[tuple]:
    rows = archive.rows(f"SELECT {', '.join(names)} FROM {table}")
    return sorted((tuple(_instant(value) for value in row) for row in rows), key=repr)


def schema(archive) -> set[tuple[str, str]]:
    return set(archive.rows("SELECT type, name FROM sqlite_master"))


def fts_finds_every_article(archive) -> None:
    """Each article (own record or stub) is found by the words of its title."""
    connection = sqlite3.connect(archive.path)
    try:
        # FTS5's own check that the index matches the article table.
        connection.execute("INSERT INTO article_fts(article_fts) VALUES ('integrity-check')")
        articles = connection.execute("SELECT id, title, excerpt, body FROM article").fetchall()
        assert articles
        for article_id, *texts in articles:
            words = re.findall(r"\w+", " ".join(text or "" for text in texts))[:5]
            if not words:
                continue  # nothing to search for (a record with a webUrl only)
            query = " ".join(f'"{word}"' for word in words)
            found = {
                rowid
                for (rowid,) in connection.execute(
                    "SELECT rowid FROM article_fts WHERE article_fts MATCH ?", (query,)
                )
            }
            assert article_id in found, f"article {article_id} not found by {query}"
    finally:
        connection.close()


def test_a_failed_upgrade_changes_nothing_and_can_be_rerun(archive, seed_dir):
    imported(archive, seed_dir)
    result = archive.run("db", "downgrade", "0001")
    assert result.exit_code == 0, result.output
    assert "schema at 0001" in result.output
    at_0001 = schema(archive)
    rows_0001 = archive.snapshot()
    # 0002 creates a view of this name: its CREATE VIEW fails after the index is made.
    blocker = sqlite3.connect(archive.path)
    blocker.execute("CREATE TABLE article_summary (x INTEGER)")
    blocker.commit()
    blocker.close()
    backups_before = set(archive.path.parent.glob(archive.path.name + ".backup-*"))

    failed = archive.run("db", "upgrade")

    # The archive first: still at 0001, nothing of 0002 left behind.
    current = archive.run("db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.strip() == f"0001 (head is {HEAD})"
    now = schema(archive)
    assert not [name for _, name in now if name.startswith("_alembic_tmp")], now
    assert now - {("table", "article_summary")} == at_0001
    assert not (now & CREATED_BY_0002 - {("table", "article_summary")})
    assert_sound(archive.path)
    assert archive.snapshot() == {**rows_0001, "article_summary": []}
    backups = set(archive.path.parent.glob(archive.path.name + ".backup-*")) - backups_before
    assert len(backups) == 1, backups
    (backup,) = backups
    assert "0001" in backup.name
    blocker = sqlite3.connect(archive.path)
    blocker.execute("DROP TABLE article_summary")
    blocker.commit()
    blocker.close()
    result = archive.run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"schema at {HEAD}" in result.stdout
    current = archive.run("db", "current")
    assert current.stdout.strip() == f"{HEAD} (head)"
    assert archive.count("article") == 5
    search = archive.run("search", "Blasio", "--format", "csv")
    assert search.exit_code == 0, search.output
    assert "De Blasio Will Reassess NYPD" in search.stdout
    fts_finds_every_article(archive)
    assert_sound(archive.path)

    # Last, what the user was told when the upgrade failed.
    assert failed.exit_code == 1, failed.output
    assert isinstance(failed.exception, SystemExit), escaped(failed)
    assert "Traceback" not in failed.output
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, failed.stderr
    assert "article_summary" in errors[0]
    assert str(backup) in failed.output, f"the backup is not named: {failed.output!r}"
    assert all(line.startswith(("error:", "backed up")) for line in failed.stderr.splitlines()), (
        failed.stderr
    )


def test_data_survives_every_migration_both_ways(archive):
    imported(archive, DATA)
    before = archive.snapshot()
    columns_before = columns(archive)
    full_before = {t: projection(archive, t, columns_before[t]) for t in CORE_TABLES}
    search_before = archive.run("search", "facial recognition", "--format", "csv").stdout
    assert search_before.count("\n") > 2

    revisions = [revision for revision, _ in database.history()]  # newest first
    for revision in revisions[1:]:  # every older revision, one step at a time
        result = archive.run("db", "downgrade", revision)
        assert result.exit_code == 0, result.output
        assert f"schema at {revision}" in result.stdout
        assert archive.rows("SELECT version_num FROM alembic_version") == [(revision,)]
        # Older revisions may lack columns that later ones added; what they keep is intact.
        now = columns(archive)
        assert set(CORE_TABLES) <= set(now), f"tables lost by the downgrade to {revision}"
        for table in CORE_TABLES:
            kept = [name for name in columns_before[table] if name in now[table]]
            assert kept, table
            where = [columns_before[table].index(name) for name in kept]
            expected = sorted(
                (tuple(row[i] for i in where) for row in full_before[table]), key=repr
            )
            assert projection(archive, table, kept) == expected, (
                f"{table} rows changed by the downgrade to {revision}"
            )
        assert_sound(archive.path)

    result = archive.run("db", "upgrade")
    assert result.exit_code == 0, result.output
    # Stories are derived: refilled as the README says after an upgrade.
    assert archive.run("stories", "--missing").exit_code == 0
    # What revisions before 0007 have no place for (which folder a file came from,
    # removal, aliases) is gone after going down to them; everything else is back.
    after = archive.snapshot()
    assert _without_file_identities(archive, after) == _without_file_identities(archive, before)
    assert archive.run("search", "facial recognition", "--format", "csv").stdout == search_before
    fts_finds_every_article(archive)
    assert_sound(archive.path)


# Columns of 0007 (files and versions) that older revisions cannot hold, by position.
_FILE_IDENTITY_COLUMNS = {
    "source_file": {"collection_id", "rel_path", "commit_id", "committed_at", "removed_at"},
    "article": {"removed_at"},
    "article_url": {"alias"},
}


def _without_file_identities(archive, snapshot: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    kept = {}
    for table, rows in snapshot.items():
        if table == "collection":
            continue
        dropped = _FILE_IDENTITY_COLUMNS.get(table, set())
        if dropped:
            names = [row[1] for row in archive.rows(f"PRAGMA table_info({table})")]
            keep = [i for i, name in enumerate(names) if name not in dropped]
            rows = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
        kept[table] = rows
    return kept
