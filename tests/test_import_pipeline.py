"""The parallel, chunked import gives the same archive as a plain one, file by file."""

from __future__ import annotations

import shutil

import pytest
from conftest import DATA, record, write

from archive.ingest import importer, writer
from archive.store.write_connection import IntegrityError


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
    assert "7 seen, 6 new, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "copies: 1 new file" in result.output
    assert f"rejected: {records / 'd.md'}:3: quality:" in result.output
    assert archive.count("article") == 5


def test_a_chunk_that_fails_to_write_is_retried_file_by_file(archive, records, monkeypatch):
    for name in ("a.md", "b.md", "c.md"):
        write(records, name, record(f"https://example.com/{name}"))
    add = writer._Plan.add

    def failing_add(self, record, path_known):
        if record.source.endswith("b.md"):
            raise IntegrityError(Exception("UNIQUE constraint failed: simulated"))
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


def test_booleans_json_and_empty_values_are_stored_as_sqlite_reads_them(archive, records):
    # The writer binds booleans as sqlite3 does and skips converting None: the
    # stored values must stay what SQLAlchemy's processors made of them.
    text = "\n".join(
        [
            "---",
            'webUrl: "https://example.com/a"',
            "published: true",
            "publishedDateTime: 2020-08-17T20:08:00+02:00",
            "sponsor: acme",
            "topics:",
            "  - AI",
            "provider:",
            "  name: Example",
            "  domain: example.com",
            "  images:",
            '    - url: "https://example.com/logo.png"',
            "images:",
            '  - url: "https://example.com/1.jpg"',
            "    isCached: false",
            "    title: one",
            "related:",
            '  - webUrl: "https://example.com/b"',
            "    published: false",
            "---",
            "",
        ]
    )
    write(records, "a.md", text)
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows(
        "SELECT url, typeof(published), published, is_stub, typeof(is_stub), published_at,"
        " extra FROM article ORDER BY id"
    ) == [
        ("https://example.com/a", "integer", 1, 0, "integer", "2020-08-17T18:08:00Z",
         '{"sponsor": "acme"}'),
        ("https://example.com/b", "integer", 0, 1, "integer", None, None),
    ]  # fmt: skip
    assert archive.rows("SELECT is_cached, typeof(is_cached), extra FROM image") == [
        (0, "integer", '{"title": "one"}')
    ]
    assert archive.rows("SELECT extra FROM provider") == [
        ('{"images": [{"url": "https://example.com/logo.png"}]}',)
    ]
    assert archive.rows("SELECT published_at FROM article_topic") == [("2020-08-17T18:08:00Z",)]


def test_the_collector_runs_less_often_during_an_import_and_as_before_after(
    archive, records, monkeypatch
):
    import gc

    from archive.ingest import parsers

    write(records, "a.md", record("https://example.com/a"))
    write(records, "b.md", record("https://example.com/b", quality="high"))
    before = gc.get_threshold()
    seen = []
    write_batch = importer.write_batch

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return write_batch(*args, **kwargs)

    monkeypatch.setattr(importer, "write_batch", spy)
    assert archive.run("import", str(records)).exit_code == 1
    assert seen == [(parsers.IMPORT_GC_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before
    # --strict stops at the bad file with an error: the threshold is restored too.
    assert archive.run("import", "--strict", str(records)).exit_code == 1
    assert gc.get_threshold() == before
