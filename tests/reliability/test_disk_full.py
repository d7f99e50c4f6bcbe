"""A full disk (simulated with PRAGMA max_page_count) stops the import cleanly.

Exit status 1 with one `error:` line, no traceback, an intact file in which every
file is either completely in or not at all, nothing that was there before lost; and
once there is room again, running the import again completes it.
"""

from __future__ import annotations

import resource
import subprocess

import pytest
from reliability_checks import (
    archive_command,
    assert_files_fully_in,
    assert_sound,
    clean_env,
    escaped,
    generate,
    rows,
    run_archive,
)

from archive.ingest import importer
from archive.store import write_connection

FILES = 300


@pytest.mark.parametrize(
    ("spare_pages", "batch_files"),
    [
        (5, importer.BATCH_FILES),  # full at once: the first chunk cannot be written
        (400, 25),  # room for a few small committed chunks, then full
    ],
    ids=["full-at-once", "full-after-some-chunks"],
)
def test_a_full_disk_is_one_error_line_and_loses_nothing(
    archive, seed_dir, tmp_path, monkeypatch, spare_pages, batch_files
):
    records = tmp_path / "generated"
    generate(records, FILES)
    result = archive.run("import", str(seed_dir))
    assert result.exit_code == 0, result.output
    seed_rows = archive.snapshot()
    pages = int(archive.value("PRAGMA page_count"))

    monkeypatch.setattr(importer, "BATCH_FILES", batch_files)
    monkeypatch.setattr(importer, "COMMIT_FILES", batch_files)  # commit every chunk
    monkeypatch.setattr(
        write_connection, "EXTRA_PRAGMAS", [f"PRAGMA max_page_count = {pages + spare_pages}"]
    )
    full = archive.run("import", "--workers", "0", str(records))

    # What is in the archive first; what the user was told is checked at the end, so
    # a bad message does not hide whether the data is right.
    assert_sound(archive.path)
    imported = assert_files_fully_in(archive.path)  # the seed's file and whole chunks
    assert imported < FILES + 1
    after = archive.snapshot()
    for table, before_rows in seed_rows.items():
        assert set(before_rows) <= set(after[table]), f"{table}: seed rows lost or changed"
    if spare_pages < 10:
        assert after == seed_rows, "nothing fits, so nothing may change"
    else:
        assert imported > 1, "the limit left room for some chunks: they are kept"

    monkeypatch.setattr(write_connection, "EXTRA_PRAGMAS", [])
    again = archive.run("import", "--workers", "0", str(records))
    assert again.exit_code == 0, again.output
    assert ", 0 rejected" in again.output
    assert assert_files_fully_in(archive.path) == FILES + 1
    assert archive.value("SELECT count(*) FROM article WHERE is_stub = 0") == FILES + 1
    after = archive.snapshot()
    for table, before_rows in seed_rows.items():
        assert set(before_rows) <= set(after[table]), f"{table}: seed rows lost or changed"

    assert full.exit_code == 1, full.output
    assert isinstance(full.exception, SystemExit), escaped(full)
    assert "Traceback" not in full.output
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1, full.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "full" in lines[0], lines[0]


def index_names(archive) -> set[str]:
    return {name for (name,) in archive.rows("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_first_import_cut_short_leaves_its_query_indexes_to_the_next_import(
    archive, tmp_path, monkeypatch
):
    # A first import builds some query indexes at its end (archive/store/deferred_indexes.py).
    # Here the disk fills up before then: the next import must build them.
    records = tmp_path / "generated"
    generate(records, FILES)
    assert archive.run("db", "upgrade", "--create").exit_code == 0
    schema_indexes = index_names(archive)
    pages = int(archive.value("PRAGMA page_count"))

    # A commit per file: the commit that finds the disk full is one file, so its
    # rollback frees less room than the indexes need (with 25 files a commit, it could
    # free enough, and the import then built them after all).
    monkeypatch.setattr(importer, "BATCH_FILES", 1)
    monkeypatch.setattr(importer, "COMMIT_FILES", 1)
    monkeypatch.setattr(
        write_connection, "EXTRA_PRAGMAS", [f"PRAGMA max_page_count = {pages + 400}"]
    )
    full = archive.run("import", "--workers", "0", str(records))
    assert full.exit_code == 1, full.output
    assert "Traceback" not in full.output
    assert_sound(archive.path)
    assert 1 < assert_files_fully_in(archive.path) < FILES
    assert index_names(archive) < schema_indexes, "the deferred indexes found no room"

    monkeypatch.setattr(write_connection, "EXTRA_PRAGMAS", [])
    again = archive.run("import", "--workers", "0", str(records))
    assert again.exit_code == 0, again.output
    assert index_names(archive) == schema_indexes
    assert assert_files_fully_in(archive.path) == FILES


# Room the file-size limit leaves above the seeded archive: from "nothing fits" to
# "the disk fills while a commit writes its pages" (found at COMMIT before the fix,
# exit status 70).
ROOM_BYTES = [50_000, 200_000, 1_000_000, 1_500_000]


@pytest.mark.parametrize("room", ROOM_BYTES)
def test_a_disk_that_fills_at_any_point_is_one_line_and_status_1(seed_dir, tmp_path, room):
    # A real process under a file-size limit (RLIMIT_FSIZE): SQLite's writes fail as
    # they would on a full disk, wherever they happen, the commit included.
    records = tmp_path / "generated"
    generate(records, 600)
    db = tmp_path / "full.db"
    assert run_archive(db, "import", "--quiet", str(seed_dir)).returncode == 0
    before = {table: rows(db, f"SELECT * FROM {table}") for table in ("article", "source_file")}
    limit = db.stat().st_size + room

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = subprocess.run(
        archive_command(db, "import", "--workers", "0", str(records)),
        capture_output=True, text=True, preexec_fn=small_disk, env=clean_env(),
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in full.stderr, full.stderr
    assert full.returncode == 1, full.stderr
    lines = full.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: could not write to the archive"), lines
    assert_sound(db)
    for table, old in before.items():
        assert set(old) <= set(rows(db, f"SELECT * FROM {table}")), f"{table}: rows lost"

    again = run_archive(db, "import", "--workers", "0", str(records))
    assert again.returncode == 0, again.stderr
    assert assert_files_fully_in(db) == 601
