"""The parallel, chunked import gives the same archive as a plain one, file by file."""

from __future__ import annotations

import shutil

import pytest
from conftest import DATA, record, write
from sqlalchemy.exc import IntegrityError

from archive.ingest import importer, writer


def content(archive) -> dict[str, list[tuple]]:
    """Every table, minus the import times that differ between runs."""
    snapshot = archive.snapshot()
    snapshot["source_file"] = sorted(
        (row[1:4] + row[5:] for row in snapshot["source_file"]), key=repr
    )
    return snapshot


@pytest.fixture
def small_chunks(monkeypatch):
    # Several chunks in flight, so worker processes, prefetch and ordering all run.
    monkeypatch.setattr(importer, "BATCH_FILES", 2)
    monkeypatch.setattr(importer, "PREFETCH", 2)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_parallel_chunks_build_the_same_archive_as_one_process(
    tmp_path, archive, small_chunks, workers
):
    from conftest import Archive

    plain = Archive(tmp_path / "plain.db")
    assert plain.run("import", "--workers", "0", str(DATA)).exit_code == 0
    result = archive.run("import", "--workers", workers, str(DATA))
    assert result.exit_code == 0, result.output
    assert "17 seen, 17 new" in result.output
    assert content(archive) == content(plain)


def test_rejections_and_copies_are_counted_in_order_across_chunks(archive, records, small_chunks):
    for name in ("a.md", "b.md", "c.md", "e.md", "g.md"):
        write(records, name, record(f"https://example.com/{name}"))
    write(records, "d.md", record("https://example.com/d", quality="high"))
    shutil.copy(records / "a.md", records / "f.md")  # a copy, in a later chunk
    result = archive.run("import", "--workers", "2", str(records))
    assert result.exit_code == 1
    assert "7 seen, 5 new, 0 updated, 1 unchanged, 1 rejected" in result.output
    assert f"rejected: {records / 'd.md'}:3: quality:" in result.output
    assert archive.count("article") == 5


def test_a_chunk_that_fails_to_write_is_retried_file_by_file(archive, records, monkeypatch):
    for name in ("a.md", "b.md", "c.md"):
        write(records, name, record(f"https://example.com/{name}"))
    add = writer._Plan.add

    def failing_add(self, record, path_known):
        if record.source.endswith("b.md"):
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: simulated"))
        return add(self, record, path_known)

    monkeypatch.setattr(writer._Plan, "add", failing_add)
    result = archive.run("import", str(records))
    assert result.exit_code == 1
    assert (
        f"rejected: {records / 'b.md'}: could not be written: UNIQUE constraint failed"
        in result.output
    )
    assert archive.rows("SELECT url FROM article ORDER BY url") == [
        ("https://example.com/a.md",),
        ("https://example.com/c.md",),
    ]
    assert archive.count("source_file") == 2


def test_reverting_a_file_applies_it_again_but_rivals_do_not_take_turns(archive, records):
    path = write(records, "a.md", record("https://example.com/x", title='"X"'))
    archive.run("import", str(records))
    write(records, "a.md", record("https://example.com/x", title='"Y"'))
    archive.run("import", str(records))
    write(records, "a.md", record("https://example.com/x", title='"X"'))
    result = archive.run("import", str(path))
    assert "1 updated" in result.output
    assert archive.value("SELECT title FROM article") == "X"

    # Two files about the same article: the later one wins, and re-importing
    # changes nothing (the earlier one is not applied again).
    write(records, "b.md", record("https://example.com/x", title='"B"'))
    archive.run("import", str(records))
    before = archive.snapshot()
    result = archive.run("import", str(records))
    assert "2 seen, 0 new, 0 updated, 2 unchanged" in result.output
    assert archive.snapshot() == before
    assert archive.value("SELECT title FROM article") == "B"


def test_a_first_import_ends_with_every_index_of_the_schema(tmp_path, archive, small_chunks):
    # It builds some query indexes once at its end instead of row by row
    # (archive/store/deferred_indexes.py); the archive it leaves must not be missing any.
    from conftest import Archive

    schema = Archive(tmp_path / "schema.db")
    assert schema.run("db", "upgrade", "--create").exit_code == 0
    expected = schema.rows("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
    result = archive.run("import", "--workers", "0", str(DATA))
    assert result.exit_code == 0, result.output
    assert (
        archive.rows("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        == expected
    )


def test_building_the_deferred_indexes_keeps_the_writers_page_cache(archive):
    # deferred_indexes.build sorts with a small page cache (memory); an import that builds
    # missing indexes before it starts must then go on with its own, larger cache.
    from archive.store import deferred_indexes
    from archive.store.database import open_archive

    opened = open_archive(str(archive.path))
    try:
        with opened.writer(cache_kib=65536) as conn:
            with conn.begin():
                deferred_indexes.drop(conn)
                assert len(deferred_indexes.missing(conn)) == len(deferred_indexes.DEFERRED)
            with conn.begin():
                deferred_indexes.build(conn)
                assert deferred_indexes.missing(conn) == []
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536
    finally:
        opened.close()
