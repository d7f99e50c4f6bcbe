"""`archive sql` and `archive export --query` can read everything and change nothing.

Each statement that would write, attach, reconfigure or escape the file is refused
with one `error:` line, and afterwards the database file is byte-identical and no
file has appeared in its folder. Filter values that look like SQL are just values.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SEED, Archive, hang_guard, one_error_line, record, write

from archive.query import readonly_sql

SEED_NAME = SEED.name
SEED_URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"
SEED_TITLE = "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest"
ARTICLE_COLUMNS = [
    "id",
    "url",
    "title",
    "excerpt",
    "body",
    "category",
    "type",
    "published_at",
    "quality",
    "heat",
    "published",
    "amp_url",
    "cdn_amp_url",
    "provider_id",
    "secured",
    "extra",
    "is_stub",
    "source_file_id",
    "original_url",
    "featured_content",
    "removed_at",
]

NOT_AUTHORIZED = "not allowed: archive sql is read-only (not authorized)"
DENIED_ACTION = "not allowed: archive sql is read-only (authorization denied)"
ONE_STATEMENT = "one statement at a time, please (no ';' between statements)"
# SQLite itself refuses a write to the schema table unless writable_schema is on, and
# switching that on is refused below.
SCHEMA_TABLE = "SQL error: table sqlite_master may not be modified"


def function(name: str) -> str:
    return f"not allowed: archive sql is read-only (not authorized to use function: {name})"


# Statements that must be refused, each with the reason it must be refused for: a
# statement that fails for another reason (a misspelt name, a function this SQLite
# lacks) proves nothing. {tmp} is the database's folder.
DENIED: list[tuple[str, str]] = [
    ("INSERT INTO topic(key,name) VALUES ('x','x')", NOT_AUTHORIZED),
    ("UPDATE article SET title='x'", NOT_AUTHORIZED),
    ("DELETE FROM article", NOT_AUTHORIZED),
    ("DROP TABLE article", NOT_AUTHORIZED),
    ("CREATE TABLE t(x)", NOT_AUTHORIZED),
    ("ATTACH DATABASE '{tmp}/other.db' AS o", NOT_AUTHORIZED),
    ("PRAGMA query_only=0", NOT_AUTHORIZED),
    ("PRAGMA journal_mode=DELETE", NOT_AUTHORIZED),
    ("PRAGMA writable_schema=1", NOT_AUTHORIZED),
    ("VACUUM", DENIED_ACTION),
    ("VACUUM INTO '{tmp}/copy.db'", DENIED_ACTION),
    ("SELECT load_extension('x')", function("load_extension")),
    ("SELECT 1; DROP TABLE article", ONE_STATEMENT),
    ("BEGIN", NOT_AUTHORIZED),
    ("REINDEX", NOT_AUTHORIZED),
    ("ANALYZE", NOT_AUTHORIZED),
    # and their relatives
    ("REPLACE INTO topic(id, key, name) VALUES (1, 'x', 'x')", NOT_AUTHORIZED),
    ("INSERT OR IGNORE INTO topic(key,name) SELECT key || 'x', name FROM topic", NOT_AUTHORIZED),
    (
        "WITH doomed AS (SELECT id FROM article) DELETE FROM article WHERE id IN doomed",
        NOT_AUTHORIZED,
    ),
    ("UPDATE sqlite_master SET sql = 'x' WHERE name = 'article'", SCHEMA_TABLE),
    ("DELETE FROM sqlite_master", SCHEMA_TABLE),
    ("INSERT INTO article_fts(article_fts) VALUES ('rebuild')", NOT_AUTHORIZED),
    ("INSERT INTO article_fts(article_fts) VALUES ('delete-all')", NOT_AUTHORIZED),
    ("CREATE TEMP TABLE t(x)", NOT_AUTHORIZED),
    ("CREATE TEMP VIEW v AS SELECT 1", NOT_AUTHORIZED),
    ("CREATE VIEW v AS SELECT 1", NOT_AUTHORIZED),
    ("CREATE INDEX ix_x ON article(title)", NOT_AUTHORIZED),
    ("CREATE TRIGGER tr AFTER INSERT ON topic BEGIN DELETE FROM article; END", NOT_AUTHORIZED),
    ("CREATE VIRTUAL TABLE f USING fts5(x)", NOT_AUTHORIZED),
    ("ALTER TABLE article ADD COLUMN x TEXT", NOT_AUTHORIZED),
    ("ALTER TABLE article RENAME TO gone", NOT_AUTHORIZED),
    ("DROP VIEW article_summary", NOT_AUTHORIZED),
    ("DROP TRIGGER article_fts_insert", NOT_AUTHORIZED),
    ("DROP INDEX ix_article_is_stub_published_at", NOT_AUTHORIZED),
    ("ATTACH DATABASE ':memory:' AS m", NOT_AUTHORIZED),
    ("ATTACH DATABASE 'file:{tmp}/other.db?mode=rwc' AS o", NOT_AUTHORIZED),
    ("DETACH DATABASE main", NOT_AUTHORIZED),
    ("PRAGMA user_version=5", NOT_AUTHORIZED),
    ("PRAGMA main.journal_mode=DELETE", NOT_AUTHORIZED),
    ("PRAGMA journal_mode=OFF", NOT_AUTHORIZED),
    ("PRAGMA foreign_keys=OFF", NOT_AUTHORIZED),
    ("PRAGMA wal_checkpoint(TRUNCATE)", NOT_AUTHORIZED),
    ("PRAGMA optimize", NOT_AUTHORIZED),
    ("PRAGMA incremental_vacuum", NOT_AUTHORIZED),
    ("PRAGMA auto_vacuum=FULL", NOT_AUTHORIZED),
    ("PRAGMA page_size=512", NOT_AUTHORIZED),
    ("PRAGMA schema_version=1", NOT_AUTHORIZED),
    ("COMMIT", NOT_AUTHORIZED),
    ("ROLLBACK", NOT_AUTHORIZED),
    ("SAVEPOINT s", NOT_AUTHORIZED),
    ("RELEASE s", NOT_AUTHORIZED),
    ("SELECT 1; SELECT 2", ONE_STATEMENT),
    # Exists in this SQLite (FTS3): it hands out a tokenizer's memory address, and with a
    # second argument installs one from an address.
    ("SELECT fts3_tokenizer('simple')", function("fts3_tokenizer")),
]


def hashed(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def state(archive: Archive) -> tuple:
    """The database's bytes and every other file in its folder.

    The WAL's content counts (a missing WAL and an empty one hold the same data); the
    -wal and -shm files SQLite itself keeps beside the database are left out of the
    listing here: whether read-only commands leave those behind is checked on its own
    in test_reads_leave_no_files_behind.
    """
    folder = archive.path.parent
    wal = archive.path.with_name(archive.path.name + "-wal")
    sidecars = {wal.name, archive.path.name + "-shm"}
    files = sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.name not in sidecars
    )
    return hashed(archive.path), wal.read_bytes() if wal.exists() else b"", files


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def ok_json(archive: Archive, *args: str) -> list[dict]:
    result = archive.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def values(rows: list[dict]) -> list[tuple]:
    return [tuple(row.values()) for row in rows]


# --- writes are refused ----------------------------------------------------------------


@pytest.mark.parametrize("command", ["sql", "export"])
@pytest.mark.parametrize(("statement", "reason"), DENIED, ids=[s for s, _ in DENIED])
def test_statement_is_refused_and_nothing_changes(seeded, tmp_path, statement, reason, command):
    sql = statement.format(tmp=tmp_path)
    snapshot = seeded.snapshot()
    schema = seeded.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    before = state(seeded)
    if command == "sql":
        result = seeded.run("sql", sql)
    else:
        result = seeded.run("export", "--query", sql, "-o", str(tmp_path / "out.csv"))
    assert one_error_line(result) == f"error: {reason}"
    assert state(seeded) == before
    for name in ("other.db", "copy.db", "out.csv"):
        assert not (tmp_path / name).exists()
    assert seeded.snapshot() == snapshot
    assert seeded.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert seeded.count("article") == 5
    assert seeded.value("PRAGMA journal_mode") == "wal"
    # The archive still works for reading and writing afterwards.
    assert ok_json(seeded, "sql", "SELECT count(*) AS n FROM topic") == [{"n": 2}]


def test_refusals_say_why(seeded):
    assert one_error_line(seeded.run("sql", "DELETE FROM article")).startswith(
        "error: not allowed: archive sql is read-only"
    )
    assert "one statement at a time" in one_error_line(
        seeded.run("sql", "SELECT 1; DROP TABLE article")
    )
    assert one_error_line(seeded.run("sql", "SELEC 1")).startswith("error: SQL error:")
    assert one_error_line(seeded.run("sql", "SELECT * FROM no_such_table")).startswith(
        "error: SQL error: no such table: no_such_table (tables and views: "
    )


def test_reads_leave_no_files_behind(seeded, tmp_path):
    # A read-only command leaves the database's folder exactly as it found it: no
    # -wal or -shm file that was not there before.
    before = files_in(tmp_path)
    assert before == ["seed", f"seed/{SEED_NAME}", "test.db"]
    for command in (
        ["sql", "SELECT count(*) FROM article"],
        ["export", "article"],
        ["export", "--query", "SELECT title FROM article"],
        ["sql", "DELETE FROM article"],
        ["sql", "SELECT * FROM article", "--limit", "1"],
    ):
        seeded.run(*command)
        assert files_in(tmp_path) == before, command


# --- each lock holds alone -------------------------------------------------------------
# readonly_sql's locks back each other up, so removing one fails none of the tests
# above. Here a test switches all but one off (on archive sql's own connection, run
# through the CLI) and shows that one still refuses the write.

WRITES = [
    "INSERT INTO topic(key, name) VALUES ('x', 'x')",
    "UPDATE article SET title = 'x'",
    "DELETE FROM article",
    "CREATE TABLE t(x)",
    "DROP TABLE related_link",
]
READ_ONLY = "not allowed: archive sql is read-only"  # SQLite: attempt to write a readonly database
ALL_LOCKS = {"read-only file", "query_only", "authorizer"}
QUERY_ONLY_ON = re.compile(r"\s*PRAGMA\s+query_only\s*=\s*(1|on|true|yes)\s*;?\s*", re.I)


@dataclass
class Locks:
    """What archive sql's connection is opened without (see the `locks` fixture)."""

    off: set[str] = field(default_factory=set)
    # Functions registered on the connection, as an extension of another build would.
    functions: dict[str, tuple[int, Callable[..., object]]] = field(default_factory=dict)


@pytest.fixture
def locks(monkeypatch) -> Locks:
    """Lets a test open archive sql's connection without some of its locks:
    "read-only file" (mode=ro becomes mode=rw), "query_only" (PRAGMA query_only = 1
    is not run) and "authorizer" (set_authorizer installs none)."""
    switches = Locks()

    class Connection(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if "query_only" in switches.off and QUERY_ONLY_ON.fullmatch(sql):
                sql = "PRAGMA query_only = 0"
            return super().execute(sql, *args)

        def set_authorizer(self, authorizer: Callable[..., int] | None) -> None:
            super().set_authorizer(None if "authorizer" in switches.off else authorizer)

    def connect(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        if "read-only file" in switches.off:
            database = database.replace("mode=ro", "mode=rw")
        connection = sqlite3.connect(database, *args, factory=Connection, **kwargs)
        for name, (arity, function) in switches.functions.items():
            connection.create_function(name, arity, function)
        return connection

    # Only readonly_sql's view of the sqlite3 module changes: the test's own
    # connections (and the import) are the real thing.
    module = types.ModuleType("sqlite3")
    module.__dict__.update(vars(sqlite3))
    module.connect = connect
    monkeypatch.setattr(readonly_sql, "sqlite3", module)
    return switches


@pytest.mark.parametrize("statement", WRITES)
def test_with_every_lock_off_the_write_goes_through(seeded, locks, statement):
    """The control: the switches really open the archive up, so a refusal below is the
    one lock left on, not a lock the fixture failed to switch off."""
    locks.off = set(ALL_LOCKS)
    before = seeded.snapshot()
    assert ok_json(seeded, "sql", "PRAGMA query_only") == [{"query_only": 0}]
    result = seeded.run("sql", statement)
    assert result.exit_code == 0, result.output
    assert seeded.snapshot() != before


@pytest.mark.parametrize(
    ("lock", "reason"),
    [
        ("read-only file", READ_ONLY),
        ("query_only", READ_ONLY),
        ("authorizer", f"{READ_ONLY} (not authorized)"),
    ],
)
@pytest.mark.parametrize("statement", WRITES)
def test_each_lock_alone_refuses_a_write(seeded, locks, lock, reason, statement):
    locks.off = ALL_LOCKS - {lock}
    before = state(seeded)
    snapshot = seeded.snapshot()
    assert one_error_line(seeded.run("sql", statement)) == f"error: {reason}"
    assert state(seeded) == before
    assert seeded.snapshot() == snapshot


def test_load_extension_is_off_without_the_authorizer(seeded, locks):
    """SQLite leaves extension loading off unless the program turns it on, which archive
    never does: with every lock of archive's off, load_extension() is still refused."""
    locks.off = set(ALL_LOCKS)
    assert one_error_line(seeded.run("sql", "SELECT load_extension('x')")) == (
        f"error: {READ_ONLY} (not authorized)"
    )


def _readfile(path: str) -> bytes:
    return Path(path).read_bytes()


def _writefile(path: str, data: str) -> int:
    return Path(path).write_text(data)


@pytest.mark.parametrize(
    ("statement", "name"),
    [
        ("SELECT writefile('{tmp}/written.txt', 'x')", "writefile"),
        ("SELECT length(readfile('{tmp}/test.db')) AS n", "readfile"),
    ],
)
def test_file_functions_another_build_has_are_refused_by_the_authorizer(
    seeded, locks, tmp_path, statement, name
):
    """This SQLite has no readfile() or writefile() (the sqlite3 shell's fileio
    extension): registered here as working functions, the authorizer refuses them by
    name, whatever else is switched off."""
    locks.functions = {"readfile": (1, _readfile), "writefile": (2, _writefile)}
    sql = statement.format(tmp=tmp_path)
    locks.off = ALL_LOCKS - {"authorizer"}
    before = state(seeded)
    assert one_error_line(seeded.run("sql", sql)) == f"error: {function(name)}"
    assert state(seeded) == before
    assert not (tmp_path / "written.txt").exists()
    # Without the authorizer the same statement runs: the refusal above was its.
    locks.off = set(ALL_LOCKS)
    assert seeded.run("sql", sql).exit_code == 0
    assert (tmp_path / "written.txt").exists() == (name == "writefile")


# --- reads work ------------------------------------------------------------------------


def test_pragma_table_info_reads(seeded):
    direct = seeded.rows("PRAGMA table_info(article)")
    assert [row[1] for row in direct] == ARTICLE_COLUMNS
    assert values(ok_json(seeded, "sql", "PRAGMA table_info(article)")) == direct
    assert values(ok_json(seeded, "sql", "SELECT * FROM pragma_table_info('article')")) == direct
    assert values(ok_json(seeded, "export", "--query", "PRAGMA table_info(article)")) == direct
    assert ok_json(seeded, "sql", "SELECT name FROM pragma_table_info('topic') ORDER BY cid") == [
        {"name": "id"},
        {"name": "key"},
        {"name": "name"},
    ]
    assert ok_json(seeded, "sql", "PRAGMA journal_mode") == [{"journal_mode": "wal"}]
    assert ok_json(seeded, "sql", "PRAGMA user_version") == [{"user_version": 0}]


def test_sqlite_master_and_views_read(sample):
    direct = sample.rows("SELECT name FROM sqlite_master")
    assert values(ok_json(sample, "sql", "SELECT name FROM sqlite_master")) == direct
    assert {"article", "article_summary", "article_fts", "article_fts_insert"} <= {
        name for (name,) in direct
    }
    summary = sample.rows("SELECT * FROM article_summary ORDER BY id")
    assert len(summary) == sample.count("article")
    # topics, SQLite's JSON text in the view, is an array in every JSON answer.
    summary = [(*row[:-1], json.loads(row[-1])) for row in summary]
    assert values(ok_json(sample, "sql", "SELECT * FROM article_summary ORDER BY id")) == summary
    assert ok_json(
        sample,
        "sql",
        "SELECT provider, topics, quality FROM article_summary WHERE url = :u",
        "-p",
        "u",
        SEED_URL,
    ) == [{"provider": "Gothamist", "topics": ["Computer Vision", "AI"], "quality": 52}]
    assert ok_json(
        sample,
        "sql",
        "SELECT name, articles FROM provider_summary WHERE articles > 1 ORDER BY name",
    ) == [
        {"name": "Example Science Channel", "articles": 2},
        {"name": "Reuters", "articles": 2},
        {"name": "The Guardian", "articles": 2},
        {"name": "The Verge", "articles": 2},
    ]
    assert ok_json(
        sample, "sql", "SELECT count(*) AS n FROM article_fts WHERE article_fts MATCH 'deepfakes'"
    ) == [{"n": 2}]


def test_recursive_cte_reads(seeded):
    counting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c"
    assert ok_json(seeded, "sql", counting) == [{"x": i} for i in range(1, 11)]
    result = seeded.run("export", "--query", counting, "--no-headers")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"".join(b"%d\r\n" % i for i in range(1, 11))


def test_named_parameters_are_values(seeded):
    assert ok_json(
        seeded, "sql", "SELECT title FROM article WHERE url = :url", "-p", "url", SEED_URL
    ) == [{"title": SEED_TITLE}]
    evil = "'; DROP TABLE article; --"
    assert ok_json(
        seeded, "sql", "SELECT :a AS a, :b || '!' AS b", "-p", "a", evil, "-p", "b", 'x" OR 1=1'
    ) == [{"a": evil, "b": 'x" OR 1=1!'}]
    assert ok_json(
        seeded, "sql", "SELECT count(*) AS n FROM article WHERE title = :t", "-p", "t", evil
    ) == [{"n": 0}]
    assert seeded.count("article") == 5
    # A missing parameter is the user's omission: a usage error that says how to give it.
    line = one_error_line(seeded.run("sql", "SELECT :missing"), 2)
    assert line == "error: no value for :missing: give one with -p missing VALUE"


# --- time limit ------------------------------------------------------------------------

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


@pytest.mark.parametrize("command", ["sql", "export"])
def test_runaway_query_is_interrupted_and_the_next_one_works(seeded, records, command):
    before = state(seeded)
    args = ["sql", RUNAWAY] if command == "sql" else ["export", "--query", RUNAWAY]
    # The query never ends on its own, so the message alone shows the time limit
    # stopped it; the guard only turns a limit that never fires into a failure.
    with hang_guard():
        result = seeded.run(*args, "--timeout", "0.5")
    assert (
        one_error_line(result, 8)
        == "error: query interrupted: it ran longer than 0.5 s (--timeout)"
    )
    assert state(seeded) == before
    # The next query on the same database works, and so does a write.
    assert ok_json(seeded, "sql", "SELECT count(*) AS n FROM article") == [{"n": 5}]
    write(records, "new.md", record("https://example.org/after-timeout"))
    result = seeded.run("import", str(records))
    assert result.exit_code == 0, result.output
    assert seeded.count("article") == 6


# --- filter values that look like SQL --------------------------------------------------

EVIL = ["'; DROP TABLE article; --", "a]b", 'x" OR 1=1', "%", "_", "*"]

FILTERED = [
    ["articles", "--topic"],
    ["articles", "--provider"],
    ["articles", "--search"],
    ["articles", "--type"],
    ["articles", "--include-stubs", "--type"],
    ["providers", "--topic"],
    ["providers", "--include-related", "--topic"],
    ["topics", "--provider"],
    ["timeline", "--topic"],
    ["timeline", "--provider"],
    ["cooccur", "--topic"],
    ["cooccur", "--topic", "AI", "--provider"],
    ["search", "facial", "--topic"],
    ["search", "facial", "--provider"],
    ["search"],
]


@pytest.mark.parametrize("evil", EVIL)
@pytest.mark.parametrize("command", FILTERED, ids=" ".join)
def test_sql_looking_filters_match_nothing(sample, command, evil):
    snapshot = sample.snapshot()
    articles = sample.count("article")
    assert articles > 0
    result = sample.run(*command, evil, "--format", "json")
    if result.exit_code == 0:
        assert json.loads(result.stdout) == [], result.output
    else:  # 2: search text with no word in it (`*`, `%`) is a usage error
        one_error_line(result, 2 if command[-1] in ("search", "--search") else 1)
    assert sample.snapshot() == snapshot
    assert sample.count("article") == articles


# --- --db is a path --------------------------------------------------------------------


def test_db_that_looks_like_a_sqlite_uri_is_a_plain_file(tmp_path, seed_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = Archive(Path("file:x.db?mode=ro"))  # what the user types: relative, file:...
    # Read it back by absolute path: the system SQLite may itself take a relative
    # "file:" name as a URI (SQLITE_USE_URI), which is what archive must not do.
    direct = Archive(tmp_path / "file:x.db?mode=ro")
    result = odd.run("import", str(seed_dir))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "file:x.db?mode=ro").is_file()
    assert not (tmp_path / "x.db").exists()
    assert ok_json(odd, "sql", "SELECT count(*) AS n FROM article") == [{"n": 5}]
    assert ok_json(odd, "articles")[0]["url"] == SEED_URL
    # mode=ro in the name neither makes a write possible nor blocks the read-only guard.
    before = state(direct)
    one_error_line(odd.run("sql", "DELETE FROM article"))
    assert state(direct) == before
    assert direct.count("article") == 5


@pytest.mark.parametrize(
    "location", ["file:x.db?mode=rwc", "file:x.db?mode=memory", "file::memory:?cache=shared"]
)
def test_db_uri_names_that_do_not_exist_are_missing_files(tmp_path, monkeypatch, location):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.db").write_bytes(b"")  # a file the URI would point at, if it were one
    odd = Archive(Path(location))
    for command in (["sql", "SELECT 1"], ["export", "article"], ["stats"]):
        result = odd.run(*command)
        assert one_error_line(result, exit_code=5).startswith(f"error: no archive at {location}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]
    assert (tmp_path / "x.db").read_bytes() == b""


def test_an_unknown_table_error_lists_the_tables_and_views(seeded):
    line = one_error_line(seeded.run("sql", "SELECT * FROM articles"))
    assert line.startswith("error: SQL error: no such table: articles (tables and views: ")
    listed = line.split("(tables and views: ", 1)[1].rstrip(")").split(", ")
    assert {"article", "article_summary", "provider", "topic_article"} <= set(listed)
    assert not any(name.startswith(("sqlite_", "article_fts")) for name in listed)


@pytest.mark.parametrize("sql", ["", "   ", "\n"])
def test_no_sql_is_a_usage_error(seeded, sql):
    line = one_error_line(seeded.run("sql", sql), exit_code=2)
    assert line.startswith("error: no SQL given")
