"""The mistakes people make, walked through the real CLI: each is one `error:` line,
the documented exit status, no traceback, and nothing written or changed.

Every case runs in a fresh folder holding what it needs (a copy of the sample
archive, a text file, an unrelated SQLite file, ...). Before and after, every file
in that folder is hashed: a mistake must leave them byte-identical and create none
(no archive for a typo'd --db, no backup, no half output file).

Opening an archive is tested in a real process (`python -m archive`), where SQLite,
file permissions and locks behave as for a user; option mistakes through click's
CliRunner, which is faster and runs the same code.

Read-only archives: the tests run as root in CI, and root may write any file
whatever its permission bits (os.access and SQLite agree: for root nothing is
read-only). So a command that must meet a read-only file or folder runs, when the
tests run as root, without the capabilities that let root ignore permission bits
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: dropped from its bounding set
before it starts, which needs only CAP_SETPCAP, in Docker's default set). It stays
uid 0 and so still reads the virtualenv wherever it lives, but the permission
bits now bind as for any user. Run as another user, the bits bind anyway.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, HANG_SECONDS, ROOT, SEED

from archive.cli import cli
from archive.errors import EXIT_STATUSES
from archive.store.schema_version import HEAD_REVISION

RECORD = DATA / "example_01_guardian-met-live-facial-recognition.md"
# The file `dump` writes last (the sample archive imports data/ in name order).
LAST_IMPORTED = DATA / "example_16_verge-same-article-later-file.md"
URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"
UNREACHABLE = "postgresql://u@127.0.0.1:1/x"  # port 1: nothing listens there


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    """A world-readable folder for the module's work folders (see the docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="archive-mistakes-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:  # read-only folders must be emptied too
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def sample(base: Path) -> Path:
    """The sample archive (data/), imported once; cases get copies."""
    path = base / "sample.db"
    done = run_process(["--db", str(path), "import", str(DATA)], cwd=base)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def old(base: Path, sample: Path) -> Path:
    """The sample archive one schema revision back."""
    path = base / "old.db"
    shutil.copy(sample, path)
    done = run_process(["--db", str(path), "db", "downgrade", "-1"], cwd=base)
    assert done.returncode == 0, done.stderr
    for backup in base.glob("old.db.backup-*"):
        backup.unlink()
    return path


def run_process(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, reader: bool = False
) -> subprocess.CompletedProcess:
    """`python -m archive ARGS` in its own process; `reader`: bound by permission bits
    (see the module's docstring)."""
    environment = {k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"}
    environment.update(
        HOME=str(cwd), XDG_STATE_HOME=str(cwd / ".state"), PYTHONDONTWRITEBYTECODE="1"
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "archive", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=HANG_SECONDS,
        preexec_fn=_bound_by_permissions if reader and os.geteuid() == 0 else None,
    )


def _bound_by_permissions() -> None:
    """In the child, before exec: give up root's power over permission bits."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def files(folder: Path) -> dict[str, str]:
    """Every file under `folder` (the state directory aside) and its SHA-256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".state" not in path.parts
    }


@dataclass
class Mistake:
    """`archive ARGS` with --db `db` in a folder set up as `setup` says."""

    args: list[str]
    exit: int
    says: str  # a fragment the error line must contain
    db: str = "archive.db"
    setup: tuple[str, ...] = ()
    process: bool = False  # in a real process (opening); else CliRunner
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert isinstance(self.setup, tuple), 'setup=("x",): a tuple, not a string'


def work_folder(base: Path, name: str, sample: Path, old: Path, setup: tuple[str, ...]) -> Path:
    """A fresh folder for one case, holding what `setup` names."""
    work = Path(tempfile.mkdtemp(prefix=re.sub(r"\W", "_", name)[:40], dir=base))
    work.chmod(0o755)
    shutil.copy(sample, work / "archive.db")
    (work / "notes.txt").write_text("not a database, just notes\n")
    (work / "records").mkdir()
    (work / "existing.csv").write_text("someone's file\n")
    with sqlite3.connect(work / "other.db") as other:  # somebody else's database
        other.execute("CREATE TABLE expenses (day TEXT, amount REAL)")
        other.execute("INSERT INTO expenses VALUES ('2024-01-02', 12.5)")
    other.close()
    (work / "empty.db").write_bytes(b"")
    if "old" in setup:
        shutil.copy(old, work / "old.db")
    if "newer" in setup:
        shutil.copy(sample, work / "newer.db")
        with sqlite3.connect(work / "newer.db") as newer:
            newer.execute("UPDATE alembic_version SET version_num = '9999'")
        newer.close()
    if "no-psycopg" in setup:
        # An installed psycopg that fails to import, as a missing one does.
        (work / "nopsycopg" / "psycopg").mkdir(parents=True)
        (work / "nopsycopg" / "psycopg" / "__init__.py").write_text(
            "raise ImportError(\"No module named 'psycopg'\")\n"
        )
    if "new-record" in setup:
        (work / "new.md").write_text("---\ntitle: New\nwebUrl: https://example.com/new\n---\n")
    if "no-archive" in setup:
        (work / "archive.db").unlink()
    if "dumped" in setup:  # a record file of the archive's, already in the folder
        # dump writes each folder imported (data/) as a folder of its files.
        (work / "out" / DATA.name).mkdir(parents=True)
        (work / "out" / DATA.name / SEED.name).write_text("someone's edit\n")  # dumped first
    if "dumped-last" in setup:  # the clash is the last file: none is written before it
        (work / "out" / DATA.name).mkdir(parents=True)
        (work / "out" / DATA.name / LAST_IMPORTED.name).write_text("someone's edit\n")
    if "link" in setup:
        (work / "link.csv").symlink_to(work / "existing.csv")
    if "ro-file" in setup:
        (work / "archive.db").chmod(0o444)
    if "ro-folder" in setup:
        # The file itself may be written; its folder may not (no -wal, no -shm).
        (work / "ro").mkdir()
        shutil.copy(sample, work / "ro" / "archive.db")
        (work / "ro" / "archive.db").chmod(0o666)
        (work / "ro").chmod(0o555)
    return work


def _lock(path: Path, kind: str) -> sqlite3.Connection:
    """Hold the archive's lock from this process: the write lock ("write", as a running
    import holds it) or an exclusive one that keeps readers out too."""
    holder = sqlite3.connect(path, isolation_level=None)
    if kind == "write":
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("DELETE FROM topic WHERE 0")  # takes the lock; changes nothing
    return holder


P = True  # run in a real process
# One case a line: a table reads better than the formatter's layout.
# fmt: off
MISTAKES: dict[str, Mistake] = {
    # --db is not an archive: a text file, somebody else's SQLite file, an empty file.
    "text file: db current": Mistake(["db", "current"], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: db upgrade": Mistake(["db", "upgrade"], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: sql": Mistake(["sql", "SELECT 1"], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: export": Mistake(["export", "article"], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: articles": Mistake(["articles"], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: import": Mistake(["import", str(RECORD)], 5, "not a SQLite database", "notes.txt", process=P),
    "text file: serve --write-metadata": Mistake(["serve", "--write-metadata", "m.json"], 5, "not a SQLite database", "notes.txt", process=P),
    "other SQLite: db upgrade": Mistake(["db", "upgrade"], 5, "is not an archive: it has other tables (expenses)", "other.db", process=P),
    "other SQLite: db current": Mistake(["db", "current"], 5, "is not an archive", "other.db", process=P),
    "other SQLite: sql": Mistake(["sql", "SELECT 1"], 5, "is not an archive", "other.db", process=P),
    "other SQLite: providers": Mistake(["providers"], 5, "is not an archive", "other.db", process=P),
    "other SQLite: import": Mistake(["import", str(RECORD)], 5, "is not an archive", "other.db", process=P),
    "other SQLite: db downgrade": Mistake(["db", "downgrade", "-1"], 5, "is not an archive", "other.db", process=P),
    "empty file: articles": Mistake(["articles"], 5, "empty database, not an archive yet", "empty.db", process=P),
    "empty file: export": Mistake(["export", "article"], 5, "empty database, not an archive yet", "empty.db", process=P),
    "empty file: db upgrade": Mistake(["db", "upgrade"], 5, "empty database, not an archive yet", "empty.db", process=P),
    # A typo'd --db: nothing may be created.
    "missing: db upgrade": Mistake(["db", "upgrade"], 5, "no archive at typo.db: db upgrade changes an existing archive", "typo.db", process=P),
    "missing folder: db upgrade --create": Mistake(["db", "upgrade", "--create"], 5, "folder nowhere does not exist", "nowhere/archive.db", process=P),
    "other SQLite: db upgrade --create": Mistake(["db", "upgrade", "--create"], 5, "--force does that anyway", "other.db", process=P),
    "missing: db downgrade": Mistake(["db", "downgrade", "-1"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: db current": Mistake(["db", "current"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: topics": Mistake(["topics"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: sql": Mistake(["sql", "SELECT 1"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: export": Mistake(["export", "article"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: stats": Mistake(["stats"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: dump": Mistake(["dump", "out"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing: serve": Mistake(["serve", "--port", "0"], 5, "no archive at typo.db", "typo.db", process=P),
    "missing default archive.db: providers": Mistake(["providers"], 5, "`archive import PATH` creates it", "", setup=("no-archive",), process=P),
    "mistyped record path: import creates no archive": Mistake(["import", "recrods"], 2, "recrods: no such file or directory", "new.db", process=P),
    "missing folder: import": Mistake(["import", str(RECORD)], 5, "folder nowhere does not exist", "nowhere/archive.db", process=P),
    # --db names a folder.
    "folder: import": Mistake(["import", str(RECORD)], 5, "it is a folder", "records", process=P),
    "folder: topics": Mistake(["topics"], 5, "it is a folder", "records", process=P),
    "folder: sql": Mistake(["sql", "SELECT 1"], 5, "it is a folder", "records", process=P),
    "folder: db upgrade": Mistake(["db", "upgrade"], 5, "it is a folder", "records", process=P),
    # Read-only: reading works (tests below); writing is refused before anything changes.
    "read-only file: import": Mistake(["import", str(RECORD)], 5, "the file is read-only", setup=("ro-file",), process=P),
    "read-only file: db downgrade": Mistake(["db", "downgrade", "-1"], 5, "the file is read-only", setup=("ro-file",), process=P),
    "read-only folder: import": Mistake(["import", str(RECORD)], 5, "its folder ro is read-only", "ro/archive.db", setup=("ro-folder",), process=P),
    "read-only folder: db downgrade": Mistake(["db", "downgrade", "-1"], 5, "its folder ro is read-only", "ro/archive.db", setup=("ro-folder",), process=P),
    "read-only folder: export -o into it": Mistake(["export", "article", "-o", "ro/out.csv"], 6, "cannot write ro/out.csv", "ro/archive.db", setup=("ro-folder",), process=P),
    "read-only folder: sql -o into it": Mistake(["sql", "SELECT 1", "-o", "ro/out.csv"], 6, "cannot write ro/out.csv", setup=("ro-folder",), process=P),
    "read-only folder: dump into it": Mistake(["dump", "ro"], 6, "cannot write to ro: the folder is read-only", setup=("ro-folder",), process=P),
    "read-only folder: dump below it": Mistake(["dump", "ro/out"], 6, "cannot create ro/out: ro is read-only", setup=("ro-folder",), process=P),
    # Locked by another process past the busy timeout (shortened to 0.2 s here).
    "locked: import": Mistake(["import", "new.md"], 4, "is busy", setup=("lock-write", "new-record"), process=P),
    "locked out: import": Mistake(["import", "new.md"], 4, "is busy", setup=("lock-exclusive", "new-record"), process=P),
    "locked: db downgrade": Mistake(["db", "downgrade", "-1"], 4, "is busy", setup=("lock-write",), process=P),
    "locked out: articles": Mistake(["articles"], 4, "is busy", setup=("lock-exclusive",), process=P),
    "locked out: sql": Mistake(["sql", "SELECT 1"], 4, "is busy", setup=("lock-exclusive",), process=P),
    "locked out: dump": Mistake(["dump", "out"], 4, "is busy", setup=("lock-exclusive",), process=P),
    # Servers and drivers.
    "postgresql without psycopg: articles": Mistake(["articles"], 5, "pip install 'archive[postgres]'", "postgresql://me@db.example.org/news", setup=("no-psycopg",), process=P, env={"PYTHONPATH": "nopsycopg"}),
    "postgresql without psycopg: sql": Mistake(["sql", "SELECT 1"], 5, "pip install 'archive[postgres]'", "postgresql://me@db.example.org/news", setup=("no-psycopg",), process=P, env={"PYTHONPATH": "nopsycopg"}),
    "postgresql without psycopg: import": Mistake(["import", str(RECORD)], 5, "pip install 'archive[postgres]'", "postgres://me@db.example.org/news", setup=("no-psycopg",), process=P, env={"PYTHONPATH": "nopsycopg"}),
    "postgresql, another driver": Mistake(["topics"], 5, "through psycopg", "postgresql+asyncpg://me@db/news", process=P),
    "mysql: import": Mistake(["import", str(RECORD)], 5, "not mysql", "mysql://me:secret@db/news", process=P),
    "mysql: sql": Mistake(["sql", "SELECT 1"], 5, "not mysql", "mysql://me@db/news", process=P),
    "oracle: db current": Mistake(["db", "current"], 5, "not oracle", "oracle://me@db/news", process=P),
    "unknown scheme: stats": Mistake(["stats"], 5, "not nosuchdb", "nosuchdb://x/y", process=P),
    "unknown scheme: serve": Mistake(["serve"], 5, "SQLite", "nosuchdb://x/y", process=P),
    "unreachable server: providers": Mistake(["providers"], 5, "cannot open archive postgresql://u@127.0.0.1:1/x", UNREACHABLE, process=P),
    "unreachable server: sql": Mistake(["sql", "SELECT 1"], 5, "cannot open archive", UNREACHABLE, process=P),
    "unreachable server: db upgrade": Mistake(["db", "upgrade"], 5, "cannot open archive", UNREACHABLE, process=P),
    "unreachable server, password": Mistake(["import", str(RECORD)], 5, "postgresql://u:***@127.0.0.1:1/x", "postgresql://u:hunter2@127.0.0.1:1/x", process=P),
    # Schema revisions.
    "old schema: articles": Mistake(["articles"], 3, "run `archive db upgrade`", "old.db", setup=("old",), process=P),
    "old schema: import": Mistake(["import", str(RECORD)], 3, "run `archive db upgrade`", "old.db", setup=("old",), process=P),
    "newer schema: sql": Mistake(["sql", "SELECT 1"], 3, "does not know", "newer.db", setup=("newer",), process=P),
    "newer schema: db upgrade": Mistake(["db", "upgrade"], 3, "does not know", "newer.db", setup=("newer",), process=P),
    "newer schema: db downgrade": Mistake(["db", "downgrade", "-1"], 3, "does not know", "newer.db", setup=("newer",), process=P),
    "unknown revision: db downgrade": Mistake(["db", "downgrade", "nonsense"], 2, "no schema revision 'nonsense'", process=P),
    "unknown revision: db upgrade": Mistake(["db", "upgrade", "9999"], 2, "no schema revision '9999'", process=P),
    # Output targets.
    "export -o onto a folder": Mistake(["export", "article", "-o", "records"], 6, "records is a folder"),
    "export -o onto a folder, --force": Mistake(["export", "article", "-o", "records", "--force"], 6, "records is a folder"),
    "export -o into a missing folder": Mistake(["export", "article", "-o", "nowhere/out.csv"], 6, "folder"),
    "export -o onto an existing file": Mistake(["export", "article", "-o", "existing.csv"], 6, "already exists (use --force"),
    "articles -o onto an existing file": Mistake(["articles", "-o", "existing.csv"], 6, "already exists"),
    "export -o through a symbolic link": Mistake(["export", "article", "-o", "link.csv", "--force"], 6, "symbolic link", setup=("link",)),
    "dump into a file": Mistake(["dump", "notes.txt"], 6, "notes.txt is a file"),
    "dump below a file": Mistake(["dump", "notes.txt/out"], 6, "notes.txt is a file"),
    "dump over its last file": Mistake(["dump", "out"], 6, "already exists (use --force", setup=("dumped-last",)),
    "dump over existing files": Mistake(["dump", "out"], 6, "already exists (use --force", setup=("dumped",)),
    "serve --write-metadata onto a folder": Mistake(["serve", "--write-metadata", "records"], 6, "records is a folder"),
    # Option values, dates, formats.
    "unknown format": Mistake(["articles", "--format", "xml"], 2, "'xml' is not one of"),
    "negative limit": Mistake(["topics", "--limit", "-1"], 2, "--limit"),
    "limit not a number": Mistake(["topics", "--limit", "ten"], 2, "'ten' is not a whole number"),
    "bad month": Mistake(["articles", "--since", "2020-13"], 2, "not a date: '2020-13'"),
    "date in words": Mistake(["articles", "--until", "yesterday"], 2, "not a date: 'yesterday'"),
    "since after until": Mistake(["providers", "--since", "2021", "--until", "2020"], 2, "--since 2021 is after --until 2020"),
    "unknown period": Mistake(["timeline", "--by", "fortnight"], 2, "'fortnight' is not one of"),
    "unknown option": Mistake(["articles", "--colour"], 2, "No such option '--colour'"),
    "unknown command": Mistake(["artcles"], 2, "No such command 'artcles'"),
    "missing --topic": Mistake(["cooccur"], 2, "Missing option '--topic'"),
    "missing URL": Mistake(["show"], 2, "Missing argument 'URL'"),
    "--bom with json": Mistake(["articles", "--format", "json", "--bom"], 2, "--bom and --excel-safe are for csv and tsv"),
    "--excel-safe with jsonl": Mistake(["export", "article", "--format", "jsonl", "--excel-safe"], 2, "csv and tsv"),
    "timeout of zero": Mistake(["sql", "SELECT 1", "--timeout", "0"], 2, "--timeout"),
    "workers below zero": Mistake(["import", "--workers", "-1", str(RECORD)], 2, "--workers"),
    "import a path that does not exist": Mistake(["import", "recrods/"], 2, "recrods"),
    "bad busy timeout": Mistake(["topics"], 2, "$ARCHIVE_BUSY_TIMEOUT must be a number", env={"ARCHIVE_BUSY_TIMEOUT": "soon"}, process=P),
    # Tables, SQL and search.
    "export an unknown table": Mistake(["export", "articles"], 1, "no table or view named 'articles' (there are:"),
    "export neither table nor query": Mistake(["export"], 2, "give a table or view name, or --query"),
    "export both table and query": Mistake(["export", "article", "--query", "SELECT 1"], 2, "not both"),
    "sql typo": Mistake(["sql", "SELEC * FROM article"], 1, "SQL error"),
    "sql unknown table": Mistake(["sql", "SELECT * FROM articles"], 1, "tables and views:"),
    "sql delete": Mistake(["sql", "DELETE FROM article"], 1, "not allowed: archive sql is read-only"),
    "sql drop": Mistake(["sql", "DROP TABLE article"], 1, "not allowed"),
    "sql two statements": Mistake(["sql", "SELECT 1; SELECT 2"], 1, "one statement at a time"),
    "sql empty": Mistake(["sql", ""], 2, "no SQL given"),
    "search for nothing": Mistake(["search", " "], 2, "no search text given"),
    "min-quality not a number": Mistake(["articles", "--min-quality", "abc"], 2, "not a whole number"),
    "sql parameter without value": Mistake(["sql", "SELECT :x"], 2, "give one with -p x VALUE"),
    "export --query write": Mistake(["export", "--query", "UPDATE article SET title = 'x'"], 1, "not allowed"),
    "search for no word": Mistake(["search", "*"], 2, "has no word to search for"),
    "show unknown URL": Mistake(["show", "https://example.com/nothing"], 1, "no article with URL"),
}
# fmt: on


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_one_line_with_its_exit_status(name, base, sample, old):
    mistake = MISTAKES[name]
    work = work_folder(base, name, sample, old, mistake.setup)
    args = (["--db", mistake.db] if mistake.db else []) + mistake.args
    env = {"ARCHIVE_BUSY_TIMEOUT": "0.2", **mistake.env}
    lock = next((s.removeprefix("lock-") for s in mistake.setup if s.startswith("lock-")), None)
    # Hashed before the lock is taken and after it is released: closing any file
    # descriptor of a file drops the POSIX locks this process holds on it.
    before = files(work)
    holder = _lock(work / "archive.db", lock) if lock else None
    try:
        reader = any(s.startswith("ro-") for s in mistake.setup)
        if mistake.process or reader:
            done = run_process(args, cwd=work, env=env, reader=reader)
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        else:
            previous = Path.cwd()
            os.chdir(work)
            try:
                result = CliRunner().invoke(cli, args, env={"ARCHIVE_DB": None, **env})
            finally:
                os.chdir(previous)
            assert result.exception is None or isinstance(result.exception, SystemExit), repr(
                result.exception
            )
            code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    after = files(work)

    assert "Traceback" not in stdout + stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert mistake.says in lines[0], lines[0]
    assert code == mistake.exit, f"exit {code}: {lines[0]}"
    assert stdout == "", stdout
    assert after == before, "a file was created or changed"
    assert "hunter2" not in stderr


def test_the_table_holds_at_least_fifty_mistakes():
    assert len(MISTAKES) >= 50
    assert sum(m.process for m in MISTAKES.values()) >= 40


# What a read-only archive answers: the same as a writable one.
READING = [
    ["providers", "--topic", "AI"],
    ["articles", "--limit", "3"],
    ["search", "police", "--limit", "2"],
    ["timeline", "--by", "year"],
    ["related", URL],
    ["show", URL],
    ["stats"],
    ["sql", "SELECT count(*) AS n FROM article"],
    ["export", "provider"],
    ["db", "current"],
    ["db", "upgrade"],  # already at head: nothing to write
]


@pytest.mark.parametrize("where", ["ro-file", "ro-folder"])
def test_a_read_only_archive_answers_every_question(where, base, sample, old):
    work = work_folder(base, f"reading {where}", sample, old, (where,))
    db = "archive.db" if where == "ro-file" else "ro/archive.db"
    before = files(work)

    for args in READING:
        expected = CliRunner().invoke(cli, ["--db", str(sample), *args], env={"ARCHIVE_DB": None})
        got = run_process(["--db", db, *args], cwd=work, reader=True)
        assert got.returncode == 0, (args, got.stderr)
        assert got.stdout == expected.stdout, args
        assert "Traceback" not in got.stderr
    # dump writes elsewhere: what a read-only archive holds comes back whole.
    dumped = run_process(["--db", db, "dump", str(base / f"dump-{where}")], cwd=work, reader=True)
    assert dumped.returncode == 0, dumped.stderr
    assert len(list((base / f"dump-{where}" / DATA.name).iterdir())) == 17
    assert files(work) == before  # no -wal, no -shm, no backup left behind


def test_db_upgrade_at_head_makes_no_backup(base, sample, old):
    work = work_folder(base, "upgrade at head", sample, old, ())
    before = files(work)
    done = run_process(["--db", "archive.db", "db", "upgrade"], cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"schema at {HEAD_REVISION}\n"
    assert done.stderr == f"already at {HEAD_REVISION} (head): nothing to do, no backup made\n"
    assert files(work) == before


def test_db_upgrade_backs_up_first_and_upgrades(base, sample, old):
    work = work_folder(base, "upgrade old", sample, old, ("old",))
    old_bytes = (work / "old.db").read_bytes()
    done = run_process(["--db", "old.db", "db", "upgrade"], cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"schema at {HEAD_REVISION}\n"
    (backup,) = work.glob("old.db.backup-*")
    assert sqlite3.connect(backup).execute("SELECT version_num FROM alembic_version").fetchone()
    assert (work / "old.db").read_bytes() != old_bytes


@pytest.mark.parametrize("db", ["new.db", "empty.db"])
def test_db_upgrade_create_makes_an_empty_archive(db, base, sample, old):
    work = work_folder(base, f"upgrade create {db}", sample, old, ())
    done = run_process(["--db", db, "db", "upgrade", "--create"], cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"schema at {HEAD_REVISION}\n"
    assert not list(work.glob("new.db.backup-*"))  # nothing to back up
    query = run_process(["--db", db, "sql", "SELECT count(*) AS n FROM article"], cwd=work)
    assert query.stdout.splitlines() == ["n", "0"], query.stderr


def test_db_upgrade_force_turns_another_database_into_an_archive(base, sample, old):
    work = work_folder(base, "upgrade force", sample, old, ())
    done = run_process(["--db", "other.db", "db", "upgrade", "--force"], cwd=work)
    assert done.returncode == 0, done.stderr
    assert list(work.glob("other.db.backup-none-*")), "no backup before changing it"
    connection = sqlite3.connect(work / "other.db")
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert {"expenses", "article", "alembic_version"} <= tables
    assert connection.execute("SELECT * FROM expenses").fetchall() == [("2024-01-02", 12.5)]


def _broken(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Make `archive stats` raise `exc`, as a bug would."""
    from archive.query import queries

    def stats(*_args: object, **_kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(queries, "stats", stats)


def test_an_internal_error_is_one_line_and_a_report(base, sample, monkeypatch, tmp_path):
    _broken(monkeypatch, ZeroDivisionError("division by zero"))
    state = tmp_path / "state"
    result = CliRunner().invoke(
        cli,
        ["--db", str(sample), "stats"],
        env={"XDG_STATE_HOME": str(state), "ARCHIVE_DEBUG": None},
    )
    assert result.exit_code == 70, result.output
    (line,) = result.stderr.splitlines()
    match = re.fullmatch(
        r"error: internal error: ZeroDivisionError: division by zero"
        r" \(full report in (.+); run with --debug to see it\)",
        line,
    )
    assert match, line
    report = Path(match[1])
    assert report.parent == state / "archive"
    assert "Traceback" in report.read_text() and "ZeroDivisionError" in report.read_text()


@pytest.mark.parametrize("how", ["--debug", "ARCHIVE_DEBUG=1"])
def test_debug_shows_the_traceback(base, sample, monkeypatch, how):
    _broken(monkeypatch, ZeroDivisionError("division by zero"))
    flag = ["--debug"] if how == "--debug" else []
    env = {"ARCHIVE_DEBUG": "1" if how != "--debug" else None}
    result = CliRunner().invoke(cli, [*flag, "--db", str(sample), "stats"], env=env)
    assert isinstance(result.exception, ZeroDivisionError), result.output


def test_an_interruption_is_exit_130_and_one_word(base, sample, monkeypatch):
    _broken(monkeypatch, KeyboardInterrupt())
    result = CliRunner().invoke(cli, ["--db", str(sample), "stats"])
    assert result.exit_code == 130, result.output
    assert result.stderr.strip() == "interrupted"


def test_a_closed_pipe_is_quiet(base, sample):
    """`archive articles | head -1`: the reader went away. Here it is gone before the
    first byte is written, so the outcome does not depend on timing."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "archive", "--db", str(sample), "articles"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=HANG_SECONDS,
        )
    finally:
        os.close(write)
    assert done.returncode == 141, done.stderr
    assert done.stderr == ""


def test_the_docs_list_the_exit_statuses_errors_py_defines():
    page = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    section = page.split("\n## Exit status\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\d+)` \| (.+?) \|$", section, re.MULTILINE)
    assert [(int(code), meaning) for code, meaning in rows] == list(EXIT_STATUSES)


def test_the_help_lists_the_exit_statuses():
    text = CliRunner().invoke(cli, ["--help"], terminal_width=200).stdout
    for code, meaning in EXIT_STATUSES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", text, re.MULTILINE), code


def test_work_folders_are_readable_by_the_reader(base):
    """The premise of the read-only cases: the reader cannot write in a read-only
    folder (else those cases would prove nothing), also when the tests run as root."""
    folder = base / "premise"
    folder.mkdir()
    folder.chmod(0o555)
    done = run_process(["--db", str(folder / "x.db"), "import", str(RECORD)], cwd=base, reader=True)
    assert done.returncode == 5, done.stderr
    assert "folder" in done.stderr and "read-only" in done.stderr
    assert not stat.S_IMODE(folder.stat().st_mode) & 0o222
