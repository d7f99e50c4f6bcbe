"""PostgreSQL gives the same answers as SQLite, against a real server (conftest: ARCHIVE_TEST_POSTGRES)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    DATA,
    REAL,
    ROOT,
    Archive,
    PostgresArchive,
    drop_postgres_database,
    imported,
    new_postgres_database,
    on_both_engines,
    one_error_line,
    record,
    write,
)

from archive.store.schema_version import HEAD_REVISION

FORMATS = ("table", "csv", "tsv", "json", "jsonl")
GENERATED = 3000
SEED_URL = (
    "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech"
    "-after-protester-arrest"
)


def _generated(folder: Path, n: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generate(folder, n)
    return folder


def _article_url(index: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import article_url
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return article_url(index)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [DATA, REAL, _generated(tmp_path_factory.mktemp("generated"), GENERATED)]


@pytest.fixture(scope="module")
def both(
    postgres_server: str, corpus: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Archive, PostgresArchive]]:
    """The same corpus imported into SQLite and into PostgreSQL, in the same order."""
    with on_both_engines(
        postgres_server, corpus, tmp_path_factory.mktemp("sqlite"), "parity"
    ) as pair:
        yield pair


def _queries() -> list[list[str]]:
    generated = _article_url(7)
    return [
        ["providers"],
        ["providers", "--include-related"],
        ["providers", "--topic", "Privacy"],
        ["providers", "--topic", "Privacy", "--topic", "AI", "--since", "2020-03-01"],
        ["providers", "--topic", "AI", "--include-related"],
        ["topics"],
        ["topics", "--provider", "reuters.com", "--until", "2021-01-01"],
        ["articles"],
        ["articles", "--include-stubs"],
        ["articles", "--topic", "Privacy", "--since", "2020-06-01", "--until", "2020-09-01"],
        ["articles", "--search", "police"],
        ["timeline"],
        ["timeline", "--by", "day"],
        ["timeline", "--by", "week", "--topic", "Privacy"],
        ["timeline", "--by", "year", "--topic", "AI", "--topic", "Climate"],
        ["cooccur", "--topic", "Privacy"],
        ["cooccur", "--topic", "AI", "--since", "2020-01-01"],
        ["related", SEED_URL],
        ["related", generated],
        ["show", SEED_URL],
        ["show", generated],
    ]


def _run(archive: Archive, args: list[str]) -> str:
    result = archive.run(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def _when_imported_masked(output: str) -> str:
    """`show` prints when its file was imported: the two archives were filled at
    different moments (to the second, on both engines)."""
    return re.sub(r"(imported_at[^0-9]{0,30})\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r"\1<when>", output)


def _help_lists(command: str) -> bool:
    from click.testing import CliRunner

    from archive.cli import cli

    return "--" + command in CliRunner().invoke(cli, ["articles", "--help"]).output


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_query_command_answers_the_same(both, fmt):
    sqlite, postgres = both
    for args in _queries():
        if args[0] == "articles" and "--search" in args and fmt == "table":
            continue  # covered by csv/json; the table is the same rows, wrapped
        command = [*args, "--format", fmt]
        mine, theirs = _run(sqlite, command), _run(postgres, command)
        if args[0] == "show":
            assert re.search(r"imported_at[^0-9]{0,30}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", theirs)
            mine, theirs = _when_imported_masked(mine), _when_imported_masked(theirs)
        assert theirs == mine, command


def test_dump_is_byte_for_byte_the_same(both, tmp_path):
    sqlite, postgres = both
    _run(sqlite, ["dump", str(tmp_path / "sqlite")])
    _run(postgres, ["dump", str(tmp_path / "postgres")])
    files = sorted(p.relative_to(tmp_path / "sqlite") for p in (tmp_path / "sqlite").rglob("*"))
    assert files and files == sorted(
        p.relative_to(tmp_path / "postgres") for p in (tmp_path / "postgres").rglob("*")
    )
    for name in files:
        if (tmp_path / "sqlite" / name).is_file():
            assert (tmp_path / "sqlite" / name).read_bytes() == (
                tmp_path / "postgres" / name
            ).read_bytes(), name


def test_stats_agree_where_they_apply(both):
    sqlite, postgres = both
    mine = {
        row["metric"]: row["value"]
        for row in json.loads(_run(sqlite, ["stats", "--format", "json"]))
    }
    theirs = {
        row["metric"]: row["value"]
        for row in json.loads(_run(postgres, ["stats", "--format", "json"]))
    }
    mine.pop("database size (MB)")  # a file's size: SQLite only
    assert theirs == mine


@pytest.mark.parametrize(
    "query",
    ["facial", "police recognition", "privacy OR climate", "données",
     "cafe", "Zürich", "election -deepfake"],
)  # fmt: skip
def test_search_finds_the_same_articles(both, query):
    """The same articles match on the generated corpus too (tests/test_search.py has
    the grammar's cases). Order follows each engine's ranking, so sets are compared."""
    sqlite, postgres = both
    found = {}
    for name, archive, text in (("sqlite", sqlite, query), ("postgres", postgres, query)):
        rows = json.loads(_run(archive, ["search", text, "--format", "json", "--limit", "100000"]))
        found[name] = sorted(row["url"] for row in rows)
        assert all("[" in row["snippet"] for row in rows), name
    assert found["postgres"] == found["sqlite"]
    assert found["sqlite"], query


def test_a_phrase_finds_what_fts5_finds(both):
    """A phrase stays within one column on PostgreSQL too (README: search)."""
    sqlite, postgres = both
    found = []
    for archive in (sqlite, postgres):
        args = ["search", '"facial recognition"', "--format", "json", "--limit", "100000"]
        rows = json.loads(_run(archive, args))
        found.append({row["url"] for row in rows})
    assert found[0] and found[0] == found[1]


def test_search_ranks_a_title_match_first(pg_archive):
    imported(pg_archive, DATA)
    rows = json.loads(_run(pg_archive, ["search", "deepfakes", "--format", "json"]))
    assert rows and "deepfake" in rows[0]["title"].lower()
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


def test_day_buckets_do_not_follow_the_session_time_zone(both, monkeypatch):
    sqlite, postgres = both
    monkeypatch.setenv("PGTZ", "Pacific/Kiritimati")  # UTC+14: moves most articles a day
    args = ["timeline", "--by", "day", "--format", "csv"]
    assert _run(postgres, args) == _run(sqlite, args)
    assert _run(postgres, ["articles", "--format", "csv"]) == _run(
        sqlite, ["articles", "--format", "csv"]
    )


# --- driver, errors, passwords --------------------------------------------------------


def test_without_the_driver_one_line_says_what_to_install(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    archive = PostgresArchive("postgresql://someone:hunter2@127.0.0.1:1/nowhere")
    line = one_error_line(archive.run("providers"), exit_code=5)
    assert "pip install 'archive[postgres]'" in line


@pytest.mark.parametrize(
    "command", [["providers"], ["import", str(DATA)], ["db", "upgrade"], ["db", "current"],
                ["sql", "SELECT 1"], ["export", "article"]],
)  # fmt: skip
def test_errors_never_print_the_password(command, postgres_server):
    from sqlalchemy.engine import make_url

    # Port 1: nothing listens there, so every command fails to connect.
    url = make_url(postgres_server).set(port=1, password="s3cret-pw")
    archive = PostgresArchive(url.render_as_string(hide_password=False))
    line = one_error_line(archive.run(*command), exit_code=5)
    assert "s3cret-pw" not in line


def test_a_wrong_password_is_one_line_without_it(postgres_server, pg_archive):
    """The test server trusts everyone; a role with a password checks nothing here,
    but the URL's password must still not appear when the database does not exist."""
    from sqlalchemy.engine import make_url

    url = make_url(pg_archive.url).set(database="no_such_db", password="pw-in-url")
    line = one_error_line(
        PostgresArchive(url.render_as_string(False)).run("providers"), exit_code=5
    )
    assert "pw-in-url" not in line and "no_such_db" in line


# --- migrations, upgrades -------------------------------------------------------------


def test_upgrade_from_the_first_revision_keeps_working(pg_archive, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # where pg_dump's backups go
    imported(pg_archive, DATA)
    assert pg_archive.run("db", "downgrade", "base").exit_code == 0
    assert pg_archive.run("import", str(DATA)).exit_code == 3
    up = pg_archive.run("db", "upgrade")
    assert up.exit_code == 0, up.output
    assert f"schema at {HEAD_REVISION}" in up.output
    imported(pg_archive, DATA)
    assert pg_archive.count("article") == 25


def test_upgrade_on_postgres_backs_up_with_pg_dump_or_says_to(pg_archive, monkeypatch, tmp_path):
    import shutil

    monkeypatch.chdir(tmp_path)
    imported(pg_archive, DATA)
    assert pg_archive.run("db", "downgrade", "0005").exit_code == 0
    monkeypatch.setenv("PATH", "/nonexistent")  # no pg_dump
    up = pg_archive.run("db", "upgrade")
    assert up.exit_code == 0, up.output
    assert "warning: no backup made: pg_dump is not on PATH" in up.output
    monkeypatch.undo()
    if shutil.which("pg_dump") is None:
        return
    monkeypatch.chdir(tmp_path)
    assert pg_archive.run("db", "downgrade", "0005").exit_code == 0
    up = pg_archive.run("db", "upgrade")
    assert up.exit_code == 0, up.output
    dumps = list(tmp_path.glob("*.backup-0005-*.dump"))
    assert len(dumps) == 1 and dumps[0].stat().st_size > 0
    assert f"to {dumps[0].name}" in up.output and "warning" not in up.output


# --- writers that share the server ------------------------------------------------------


def test_a_writer_waits_for_the_other_writers_transaction(pg_archive):
    """Ids come from max(id): a second writer's transaction must not begin while the
    first's is open (the advisory lock), as SQLite's BEGIN IMMEDIATE ensures."""
    import psycopg
    from conftest import hang_guard, libpq

    from archive.store import database

    imported(pg_archive, DATA)
    archive = database.open_archive(pg_archive.url)
    began = threading.Event()
    try:
        with archive.writer() as first, first.begin():
            first.exec_driver_sql("SELECT max(id) FROM article").scalar()

            def second_writer() -> None:
                with archive.writer() as second, second.begin():
                    began.set()

            thread = threading.Thread(target=second_writer)
            thread.start()
            with hang_guard(60), psycopg.connect(libpq(pg_archive.url)) as watcher:
                # Until the second writer either waits on the lock or gets through.
                while not began.is_set():
                    # Any lock of this database's it waits for: the writers' lock.
                    waiting = watcher.execute(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted AND database ="
                        " (SELECT oid FROM pg_database WHERE datname = current_database())"
                    ).fetchone()[0]
                    watcher.commit()
                    if waiting:
                        break
                    time.sleep(0.01)
            assert not began.is_set(), "the second writer began while the first held the lock"
        thread.join()
        assert began.is_set()
    finally:
        archive.close()


def test_two_first_imports_into_an_empty_database_create_the_schema_once(postgres_server):
    url = new_postgres_database(postgres_server)
    try:
        importers = [
            subprocess.Popen(
                [sys.executable, "-m", "archive", "--db", url, "import", str(folder)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for folder in (DATA, REAL)
        ]  # fmt: skip
        for importer in importers:
            output, _ = importer.communicate(timeout=600)
            assert importer.returncode == 0, output
    finally:
        drop_postgres_database(postgres_server, url)


def test_two_concurrent_imports_end_as_one(postgres_server, corpus, tmp_path):
    """Two importers of overlapping folders at once: no duplicate-key error, and the
    archive holds what one import of everything holds."""
    together = PostgresArchive(new_postgres_database(postgres_server))
    alone = PostgresArchive(new_postgres_database(postgres_server))
    generated = corpus[2]
    parts = sorted(generated.iterdir())
    first, second = parts[: len(parts) // 2 + 1], parts[len(parts) // 2 :]
    try:
        # The schema first, so that the race is between the imports' writes.
        assert together.run("db", "upgrade", "--create").exit_code == 0
        # Two processes, as two users would run them; both start before either writes.
        importers = [
            subprocess.Popen(
                [sys.executable, "-m", "archive", "--db", together.url, "import",
                 *map(str, folders)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for folders in (first, second)
        ]  # fmt: skip
        for importer in importers:
            output, _ = importer.communicate(timeout=600)
            assert importer.returncode == 0, output
            assert "duplicate key" not in output and "Traceback" not in output, output
            assert ", 0 rejected" in output, output
        imported(alone, generated)
        assert _comparable(together) == _comparable(alone)
    finally:
        drop_postgres_database(postgres_server, together.url)
        drop_postgres_database(postgres_server, alone.url)


def _comparable(archive: PostgresArchive) -> dict[str, list[tuple]]:
    """The archive's content without ids, times and the order files came in."""
    return {
        # A stub's title comes from the first related entry imported that names
        # it, so stubs are compared by address only.
        "articles": sorted(
            archive.rows(
                "SELECT a.url, CASE WHEN a.is_stub THEN NULL ELSE a.title END, a.is_stub, p.key"
                " FROM article a LEFT JOIN provider p ON p.id = a.provider_id"
            ),
            key=repr,
        ),
        "topics": sorted(
            archive.rows(
                "SELECT a.url, t.key, at.position FROM article_topic at"
                " JOIN article a ON a.id = at.article_id JOIN topic t ON t.id = at.topic_id"
            )
        ),
        "related": sorted(
            archive.rows(
                "SELECT a.url, r.position, b.url FROM related_link r"
                " JOIN article a ON a.id = r.article_id JOIN article b ON b.id = r.related_article_id"
            )
        ),
        "urls": sorted(
            archive.rows(
                "SELECT u.url_key, a.url FROM article_url u JOIN article a ON a.id = u.article_id"
            )
        ),
        # Both importers may record a file they both read as new (one row per import
        # of a file, as two imports one after the other would not): its content once.
        "files": sorted(archive.rows("SELECT DISTINCT path, sha256 FROM source_file")),
    }


# --- planner statistics ---------------------------------------------------------------


def _last_analyze(archive: PostgresArchive) -> object:
    """When `article` was last ANALYZEd by hand (autovacuum's own runs are not counted)."""
    return archive.value("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'article'")


def test_a_large_import_analyzes_and_a_small_one_does_not(pg_archive, monkeypatch):
    from archive.ingest import importer

    files = len(list(DATA.iterdir()))
    monkeypatch.setattr(importer, "ANALYZE_AFTER_FILES", files + 1)  # data/ is "small"
    imported(pg_archive, DATA)
    assert _last_analyze(pg_archive) is None
    monkeypatch.setattr(importer, "ANALYZE_AFTER_FILES", 5)  # REAL is "large"
    imported(pg_archive, REAL)
    assert _last_analyze(pg_archive) is not None


# --- read-only SQL (archive sql, archive export) --------------------------------------

ATTACKER_ARGS = ("--allow-superuser",)  # the test server's own user is a superuser


@pytest.fixture(scope="module")
def readable(postgres_server: str) -> Iterator[tuple[PostgresArchive, PostgresArchive]]:
    """data/ in PostgreSQL: as the server's superuser, and as a reader role that
    `archive db grant-reader` made (the test server trusts every role's login)."""
    import uuid

    import psycopg
    from conftest import libpq
    from sqlalchemy.engine import make_url

    url = new_postgres_database(postgres_server)
    role = f"reader_{uuid.uuid4().hex[:8]}"
    owner = PostgresArchive(url)
    try:
        imported(owner, DATA)
        granted = owner.run("db", "grant-reader", role)
        assert granted.exit_code == 0, granted.output
        assert f"created role {role}" in granted.output
        reader = PostgresArchive(make_url(url).set(username=role).render_as_string(False))
        yield owner, reader
    finally:
        drop_postgres_database(postgres_server, url)
        with psycopg.connect(libpq(postgres_server), autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _tables(archive: PostgresArchive) -> set[str]:
    return {
        name
        for (name,) in archive.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1; SET transaction_read_only = off; CREATE TABLE pwned (x int)",
     "COMMIT; CREATE TABLE pwned (x int)",
     "SET transaction_read_only = off; CREATE TABLE pwned (x int);"],
)  # fmt: skip
def test_sql_refuses_several_statements(readable, sql):
    owner, _reader = readable
    line = one_error_line(owner.run("sql", sql, *ATTACKER_ARGS))
    assert "one statement at a time" in line
    assert "pwned" not in _tables(owner)


def test_sql_refuses_a_superuser_unless_told(readable):
    owner, _reader = readable
    line = one_error_line(owner.run("sql", "SELECT 1"))
    assert "superuser" in line and "--allow-superuser" in line
    line = one_error_line(owner.run("export", "article"))
    assert "superuser" in line
    assert owner.run("sql", "SELECT 1", *ATTACKER_ARGS).exit_code == 0


def test_copy_to_program_is_refused(readable, tmp_path):
    owner, reader = readable
    marker = tmp_path / "ran"
    sql = f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'"
    assert "superuser" in one_error_line(owner.run("sql", sql))  # no --allow-superuser
    line = one_error_line(reader.run("sql", sql))  # the reader role's privileges
    assert "not allowed" in line and "pg_execute_server_program" in line
    assert not marker.exists()


@pytest.mark.parametrize(
    "sql",
    ["INSERT INTO topic (id, key, name) VALUES (9999, 'x', 'x')",
     "UPDATE article SET title = 'changed'",
     "DELETE FROM article",
     "DROP TABLE related_link",
     "CREATE TABLE pwned (x int)"],
)  # fmt: skip
@pytest.mark.parametrize("who", ["superuser", "reader"])
def test_sql_refuses_writes(readable, sql, who):
    """As an insisting superuser, the read-only transaction refuses; as the reader
    role, its privileges do too (each alone: either test fails without its lock)."""
    owner, reader = readable
    before = owner.snapshot()
    if who == "superuser":
        line = one_error_line(owner.run("sql", sql, *ATTACKER_ARGS))
        assert "read-only transaction" in line
    else:
        line = one_error_line(reader.run("sql", sql))
    assert line.startswith("error: not allowed: archive sql is read-only")
    assert owner.snapshot() == before


def test_the_reader_role_may_not_write_even_outside_archive_sql(readable):
    """The role, not only archive's transaction, refuses: psql would not get further."""
    import psycopg
    from conftest import libpq

    _owner, reader = readable
    with psycopg.connect(libpq(reader.url)) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM article")
        connection.rollback()
        assert connection.execute("SELECT count(*) FROM article_summary").fetchone()[0] > 0


def test_sql_timeout_interrupts_a_long_query(readable):
    _owner, reader = readable
    line = one_error_line(reader.run("sql", "SELECT pg_sleep(5)", "--timeout", "0.5"), 8)
    assert line == "error: query interrupted: it ran longer than 0.5 s (--timeout)"


def test_the_reader_role_reads_and_exports(readable):
    owner, reader = readable
    rows = json.loads(
        _run(
            reader,
            ["sql", "SELECT count(*) AS n FROM article WHERE NOT is_stub", "--format", "json"],
        )
    )
    assert rows == [{"n": owner.value("SELECT count(*) FROM article WHERE NOT is_stub")}]
    assert _run(reader, ["export", "article_summary", "--format", "csv"]).count("\n") > 1
    # A superuser is no reader: grant-reader refuses to call one that.
    assert "superuser" in one_error_line(owner.run("db", "grant-reader", "postgres"))


SQL_QUERIES = [
    "SELECT * FROM article_summary ORDER BY id",
    "SELECT id, url, extra, is_stub, published, published_at FROM article ORDER BY id",
    "SELECT * FROM image ORDER BY id",
    "SELECT * FROM provider ORDER BY id",
    "SELECT count(*) AS n, min(published_at) AS first, avg(quality) AS q FROM article"
    " WHERE published_at >= :since",
]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_sql_and_export_answer_as_on_sqlite(both, fmt):
    sqlite, postgres = both
    for sql in SQL_QUERIES:
        args = ["sql", sql, "-p", "since", "2020-08-16", "--format", fmt]
        assert _run(postgres, [*args, *ATTACKER_ARGS]) == _run(sqlite, args), sql
    names = ("article", "topic", "article_topic", "related_link", "image", "provider",
             "article_summary", "provider_summary", "related_summary", "topic_article")  # fmt: skip
    for name in names:
        # In key order on both (test_export_gives_the_same_bytes_on_both_engines).
        args = ["export", name, "--format", "jsonl" if fmt == "json" else fmt]
        assert _run(postgres, [*args, *ATTACKER_ARGS]) == _run(sqlite, args), name


def test_sql_parameters_beside_casts_percent_signs_and_strings(readable):
    """`:name` is a parameter; `::date`, `%` and ':x' inside a string are SQL's own."""
    owner, reader = readable
    sql = (
        "SELECT count(*) AS n, ':nope' AS s FROM article"
        " WHERE title LIKE '%' || :word || '%' AND published_at::date >= :since"
    )
    rows = json.loads(
        _run(reader, ["sql", sql, "-p", "word", "Facial", "-p", "since", "2020-08-16",
                      "--format", "json"])
    )  # fmt: skip
    expected = owner.value(
        "SELECT count(*) FROM article WHERE title LIKE %s AND published_at::date >= %s",
        "%Facial%",
        "2020-08-16",
    )
    assert expected > 0
    assert rows == [{"n": expected, "s": ":nope"}]
    line = one_error_line(reader.run("sql", "SELECT :missing"))
    assert "-p missing" in line


# --- a reader role cannot hold up an import; the busy timeout holds ----------------------


@pytest.fixture
def with_reader(pg_archive: PostgresArchive) -> Iterator[tuple[PostgresArchive, PostgresArchive]]:
    """data/ in a database of its own, and a reader role for it (grant-reader), whose
    URL carries the password `read` (the test server trusts logins: it checks none)."""
    import uuid

    import psycopg
    from conftest import libpq
    from sqlalchemy.engine import make_url

    role = f"reader_{uuid.uuid4().hex[:8]}"
    imported(pg_archive, DATA)
    try:
        assert pg_archive.run("db", "grant-reader", role).exit_code == 0
        url = make_url(pg_archive.url).set(username=role, password="read")
        yield pg_archive, PostgresArchive(url.render_as_string(hide_password=False))
    finally:
        with psycopg.connect(libpq(pg_archive.url), autocommit=True) as admin:
            admin.execute(f'REASSIGN OWNED BY "{role}" TO current_user')
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _import_process(url: str, busy_seconds: str) -> subprocess.CompletedProcess:
    """`archive import` of the real sample (new files: it must write) in its own
    process, with $ARCHIVE_BUSY_TIMEOUT; the timeout only turns a hang into a failure."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"}
    env["ARCHIVE_BUSY_TIMEOUT"] = busy_seconds
    return subprocess.run(
        [sys.executable, "-m", "archive", "--db", url, "import", "--quiet", str(REAL)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_password_is_masked_only_where_the_url_carries_it(with_reader):
    """With the password `read`, "read-only" stays as it is."""
    _owner, reader = with_reader
    line = one_error_line(reader.run("sql", "DELETE FROM article"))
    assert line.startswith("error: not allowed: archive sql is read-only ("), line
    line = one_error_line(reader.run("sql", "SELECT * FROM no_such_table"))
    assert "no_such_table" in line and "***" not in line

    from archive.store.location import scrubbed

    message = f"cannot connect with {reader.url}: read-only, user {reader.url.split('//')[1]}"
    shown = scrubbed(message, reader.url)
    assert ":read@" not in shown and shown.count(":***@") == 2 and "read-only" in shown


def test_a_reader_role_cannot_hold_up_an_import(with_reader):
    """`archive sql "SELECT pg_advisory_lock(KEY), pg_sleep(40)"` as the reader once
    held every import for 40 s: the writers' lock is one the reader role cannot take,
    nor block."""
    import psycopg
    from conftest import libpq

    from archive.store.database import WRITE_LOCK_KEY

    owner, reader = with_reader
    with psycopg.connect(libpq(reader.url), autocommit=True) as holder:
        holder.execute(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})")
        with (
            psycopg.connect(libpq(reader.url)) as other,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            other.execute("LOCK TABLE alembic_version IN SHARE ROW EXCLUSIVE MODE")
        done = _import_process(owner.url, "30")
    assert done.returncode == 0, done.stderr
    assert owner.count("source_file") > 25


def test_an_import_stops_busy_after_the_busy_timeout(with_reader):
    """Another writer holds the writers' lock throughout (the outcome does not depend on
    timing): the import gives up after $ARCHIVE_BUSY_TIMEOUT with exit 4 and one line."""
    from archive.store import database

    owner, _reader = with_reader
    before = owner.count("source_file")
    holder = database.open_archive(owner.url)
    try:
        with holder.writer() as writer, writer.begin():
            writer.exec_driver_sql("SELECT max(id) FROM article").scalar()
            done = _import_process(owner.url, "1")
    finally:
        holder.close()
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: the archive is busy: another process kept it locked for 1 s")
    assert owner.count("source_file") == before


# --- files and versions ---------------------------------------------------------------


def test_git_history_versions_and_addresses_answer_as_on_sqlite(pg_archive, archive, tmp_path):
    from conftest import ROOT, record, write

    bundle = ROOT / "tests/fixtures/real-history/microsoft-power-apps-news-150.bundle"
    folder = tmp_path / "moves"
    write(folder, "a.md", record("https://example.com/first", title='"One"'))
    write(folder, "b.md", record("https://example.com/first", title='"One"'))  # a copy
    for target in (archive, pg_archive):
        _run(target, ["import", "--git", str(bundle), "--git-path", "_news"])
        assert "no new commits" in _run(target, ["import", "--git", str(bundle)])
        _run(target, ["import", str(folder)])
    write(folder, "a.md", record("https://example.com/moved", title='"Two"'))
    for target in (archive, pg_archive):
        assert "1 updated" in _run(target, ["import", str(folder)])
    url = "https://youtube.com/watch?v=WJk-Y8LQlfE"
    for args in (
        ["history", url, "--format", "csv"],
        ["history", url, "--hide-signature", "--format", "json"],
        ["articles", "--format", "csv"],
        ["topics", "--format", "csv"],
        ["show", "https://example.com/first", "--format", "csv"],
    ):
        mine, theirs = _run(archive, args), _run(pg_archive, args)
        assert _when_imported_masked(theirs) == _when_imported_masked(mine), args
    assert pg_archive.count("source_file") == archive.count("source_file")
    _run(archive, ["dump", str(tmp_path / "sqlite")])
    _run(pg_archive, ["dump", str(tmp_path / "postgres")])
    for path in (tmp_path / "sqlite").rglob("*"):
        if path.is_file():
            other = tmp_path / "postgres" / path.relative_to(tmp_path / "sqlite")
            assert other.read_bytes() == path.read_bytes(), path


# --- the same order on both engines -------------------------------------------------


@pytest.fixture(scope="module")
def same_records(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Archive, PostgresArchive]]:
    """data/ and the real records in both engines, each file's import time the same
    (the two imports ran moments apart): the same records, to the last value."""
    with on_both_engines(
        postgres_server, [DATA, REAL], tmp_path_factory.mktemp("order"), "order"
    ) as (sqlite, postgres):
        import sqlite3

        with sqlite3.connect(sqlite.path) as connection:
            connection.execute("UPDATE source_file SET imported_at = '2021-02-03T04:05:06Z'")
        connection.close()
        import psycopg
        from conftest import libpq

        with psycopg.connect(libpq(postgres.url)) as connection:
            connection.execute("UPDATE source_file SET imported_at = '2021-02-03 04:05:06+00'")
        yield sqlite, postgres


def _exportable(archive: Archive) -> list[str]:
    return [
        name
        for (name,) in archive.rows(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'article_fts%'"
            " AND name != 'alembic_version' ORDER BY name"
        )
    ]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_gives_the_same_bytes_on_both_engines(same_records, fmt):
    """Every table and view, in key order: byte for byte what the other engine writes."""
    sqlite, postgres = same_records
    names = _exportable(sqlite)
    assert {"article", "article_summary", "topic_article", "source_file"} <= set(names)
    for name in names:
        mine = _run(sqlite, ["export", name, "--format", fmt])
        assert mine.count("\n") > 1 or name in ("story", "article_story", "story_band"), name
        theirs = _run(postgres, ["export", name, "--format", fmt, *ATTACKER_ARGS])
        assert theirs == mine, name


# Providers and topics whose names sort differently by code point (SQLite) and by a
# language's rules (`en-US`: case and punctuation matter last), each on one article
# of one day, so that every count ties; two providers share a name; every article
# links to one target at the same position.
TIED = [
    ("apple news", "apple.example", "beta"),
    ("Apple Daily", "appledaily.example", "Alpha"),
    ("_Underscore", "under.example", "_x"),
    ("Zeta", "zeta.example", "Ωmega"),
    ("Échos", "echos.example", "gamma"),
    ("Twin", "twin-one.example", "Delta"),
    ("Twin", "twin-two.example", "delta two"),
]
TIED_TARGET = "https://ties.example/target"


def _tied_records(folder: Path) -> Path:
    for index, (name, domain, topic) in enumerate(TIED):
        path = name.replace(" ", "-") + f"-{index}"
        text = record(
            f"https://ties.example/{path}",
            title=f'"{name} on ties"',
            publishedDateTime="2021-05-06T07:08:09Z",
            provider=f'\n  name: "{name}"\n  domain: {domain}',
            topics=f'\n  - Ties\n  - "{topic}"',
            related=f'\n  - webUrl: "{TIED_TARGET}"\n    title: "The target"',
        )
        write(folder, f"{index:02d}.md", text)
    return folder


@pytest.fixture(scope="module")
def tied(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Archive, PostgresArchive]]:
    folder = _tied_records(tmp_path_factory.mktemp("tied"))
    with on_both_engines(
        postgres_server, [folder], tmp_path_factory.mktemp("tied-db"), "tied", collation="en-US"
    ) as pair:
        yield pair


TIED_QUESTIONS = [
    ["providers"],
    ["providers", "--topic", "Ties"],
    ["providers", "--topic", "Ties", "--include-related"],
    ["providers", "--topic", "Ties", "--by-story"],
    ["topics"],
    ["topics", "--by-story"],
    ["cooccur", "--topic", "Ties"],
    ["cooccur", "--topic", "Ties", "--by-story"],
    ["articles"],
    ["articles", "--include-stubs"],
    ["related", TIED_TARGET],
    ["timeline", "--topic", "Ties", "--by", "day"],
    ["stories"],
]


@pytest.mark.parametrize("args", TIED_QUESTIONS, ids=" ".join)
def test_every_query_command_lists_ties_in_the_same_order(tied, args):
    """Rows that tie on what a command sorts by come in the same order on both
    engines, in a PostgreSQL database whose text sorts by en-US rules."""
    sqlite, postgres = tied
    mine = json.loads(_run(sqlite, [*args, "--format", "json"]))
    assert len(mine) > 1 or args[0] in ("timeline", "stories"), args
    assert json.loads(_run(postgres, [*args, "--format", "json"])) == mine
