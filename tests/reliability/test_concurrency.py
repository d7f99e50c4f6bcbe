"""Two imports at once, a reader during an import, and a writer that never lets go.

WAL mode lets readers see a consistent snapshot while an import writes; writers
take the write lock one chunk at a time, so two imports interleave; a lock held
for longer than the busy timeout is exit status 4 with one line, not a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import HANG_SECONDS, Archive, hang_guard, imported
from reliability_checks import (
    assert_files_fully_in,
    assert_sound,
    counts,
    escaped,
    generate,
    kill_group,
    rows,
    run_archive,
    start_archive,
    wait_for_commits,
)

from archive.store import database

FILES = 600


@pytest.fixture(scope="module")
def two_folders(tmp_path_factory) -> tuple[Path, Path]:
    """Two corpora with no article in common (generate() URLs depend only on the index)."""
    base = tmp_path_factory.mktemp("concurrency")
    first, second = base / "first", base / "second"
    generate(first, FILES)
    for path in generate(second, FILES, seed=2):
        text = path.read_text(encoding="utf-8")
        assert "story-" in text
        path.write_text(text.replace("story-", "other-"), encoding="utf-8")
    return first, second


def summary_rows(db: Path) -> list[tuple]:
    """Every article as the public view shows it, without the ids (order of writing)."""
    return rows(
        db,
        "SELECT url, title, excerpt, published_at, type, category, quality, heat, published,"
        " is_stub, provider, domain, topics FROM article_summary ORDER BY url",
    )


def test_two_imports_at_once_both_complete(two_folders, tmp_path):
    first, second = two_folders
    sequential = tmp_path / "sequential.db"
    for folder in (first, second):
        result = run_archive(sequential, "import", "--quiet", "--workers", "0", str(folder))
        assert result.returncode == 0, result.stdout + result.stderr

    db = tmp_path / "together.db"
    # Create the archive first, so the two imports race on writing, not on creating it.
    # (Not by importing one of the files: given alone, it is another path to the same
    # bytes, a copy that the folder's file then replaces as the article's source.)
    assert run_archive(db, "db", "upgrade", "--create").returncode == 0
    procs = [
        start_archive(db, "import", str(folder), log=tmp_path / f"{n}.log")
        for n, folder in enumerate((first, second))
    ]
    try:
        codes = [proc.wait(timeout=180) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_group(proc)
    logs = [(tmp_path / f"{n}.log").read_text() for n in range(2)]
    assert codes == [0, 0], logs
    for log in logs:
        assert ", 0 rejected" in log, log
    assert_files_fully_in(db)
    assert counts(db) == counts(sequential)
    assert summary_rows(db) == summary_rows(sequential)
    assert rows(db, "SELECT count(*) FROM article WHERE is_stub = 0") == [(2 * FILES,)]


def snapshot(reader: sqlite3.Connection) -> tuple[int, int, int]:
    """Articles, own (non-stub) articles and files, as the reader's transaction sees them."""
    return (
        reader.execute("SELECT count(*) FROM article").fetchone()[0],
        reader.execute("SELECT count(*) FROM article WHERE is_stub = 0").fetchone()[0],
        reader.execute("SELECT count(*) FROM source_file").fetchone()[0],
    )


def test_a_reader_sees_one_consistent_snapshot_during_an_import(two_folders, tmp_path, seed_dir):
    first, _ = two_folders
    db = tmp_path / "read.db"
    imported(Archive(db), seed_dir)
    reader = sqlite3.connect(db, isolation_level=None, timeout=30)
    seen: list[tuple[int, int, int]] = []
    straddled = 0  # read transactions that a commit of the import landed inside
    proc = None
    try:
        # Each read transaction waits for the import to commit (or end) before reading
        # again, so the import writes between the two reads whatever the machine's
        # speed. The first begins before the import starts, so at least one commit
        # lands inside a read transaction.
        while proc is None or proc.poll() is None:
            reader.execute("BEGIN")
            before = snapshot(reader)
            if proc is None:
                # Commits after every chunk (250 files), so there is progress to see.
                proc = start_archive(
                    db, "import", "--quiet", "--workers", "2", "--commit-every", "1", str(first),
                    log=tmp_path / "log",
                )  # fmt: skip
            committed = wait_for_commits(proc, db, before[2] + 1)
            after = snapshot(reader)
            reader.execute("COMMIT")
            assert before == after, "two reads in one transaction disagree"
            assert before[1] == before[2], "a snapshot shows files without their articles"
            straddled += committed > before[2]
            seen.append(before)
        assert proc.wait(timeout=HANG_SECONDS) == 0, (tmp_path / "log").read_text()
        seen.append(snapshot(reader))
    finally:
        reader.close()
        if proc is not None and proc.poll() is None:
            kill_group(proc)
    assert straddled >= 1, "no commit landed inside a read transaction"
    assert seen[0][2] == 1 and seen[-1][2] == FILES + 1, seen
    assert len({articles for articles, _, _ in seen}) >= 2, f"the reader never saw progress: {seen}"
    assert_sound(db)
    assert rows(db, "SELECT count(*) FROM source_file") == [(FILES + 1,)]


def test_a_held_write_lock_is_exit_4_with_one_line(archive, seed_dir, tmp_path, monkeypatch):
    records = tmp_path / "more"
    generate(records, 20)
    imported(archive, seed_dir)
    before = archive.snapshot()
    # create_archive_engine reads it when the CLI opens the archive (sqlite3 timeout
    # and PRAGMA busy_timeout): patched before the CLI runs.
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 500)

    holder = sqlite3.connect(archive.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        # The lock is held throughout, so the outcome does not depend on timing; the
        # short busy timeout only keeps the test short, and the guard catches a hang.
        with hang_guard():
            result = archive.run("import", str(records))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit), escaped(result)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the archive is busy"), lines[0]
    assert archive.snapshot() == before

    result = archive.run("import", str(records))
    assert result.exit_code == 0, result.output
    assert "20 seen, 20 new" in result.output
    assert archive.count("source_file") == 21


def test_imports_that_start_together_on_a_new_file_all_finish(tmp_path):
    """Five imports started at once into an archive that does not exist yet: each
    waits for the one creating the schema, and all end with the same archive at the
    newest revision. Started together many times, so that they do overlap; the
    outcome must not depend on which one wins."""
    from conftest import DATA

    from archive.store.schema_version import HEAD_REVISION

    for attempt in range(8):
        db = tmp_path / f"new-{attempt}.db"
        processes = [
            start_archive(
                db,
                "import",
                "--quiet",
                "--workers",
                "0",
                str(DATA),
                log=tmp_path / f"{attempt}-{i}.log",
            )
            for i in range(5)
        ]
        codes = [process.wait(timeout=300) for process in processes]
        logs = [(tmp_path / f"{attempt}-{i}.log").read_text() for i in range(5)]
        assert codes == [0] * 5, logs
        connection = sqlite3.connect(db)
        try:
            assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
                (HEAD_REVISION,)
            ]
            # Every file once: the others found it already imported (unchanged).
            paths = connection.execute("SELECT count(DISTINCT path) FROM source_file").fetchone()
        finally:
            connection.close()
        assert paths[0] == sum(1 for p in DATA.iterdir() if p.name != "README")
