"""Helpers shared by the reliability tests: corpora, subprocess imports, invariants.

Not a test module (no `test_` prefix); the tests import it by name, since pytest
puts this folder on sys.path for the test modules in it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from contextlib import suppress
from functools import cache
from pathlib import Path

from conftest import HANG_SECONDS

from archive import identity
from archive.ingest.records import Record, parse_record
from archive.store.models import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate  # noqa: E402, F401  (re-exported for the tests)

TABLES = TABLE_NAMES


def archive_command(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "archive", "--db", str(db), *args]


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ARCHIVE_DB", None)
    return env


def run_archive(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real CLI in its own process and wait for it (a hang fails the test)."""
    return subprocess.run(
        archive_command(db, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
        cwd=db.parent,
    )


def start_archive(db: Path, *args: str, log: Path) -> subprocess.Popen:
    """Start the CLI in a new session (process group), so its workers can be killed too."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            archive_command(db, *args),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=clean_env(),
            cwd=db.parent,
        )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and every process of its group (the parser workers)."""
    with suppress(ProcessLookupError):  # already gone, with all its workers
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def escaped(result) -> str:
    """What escaped a CliRunner run instead of SystemExit, and where in archive/ it came from."""
    if result.exc_info is None:
        return "nothing escaped"
    frames = [f for f in traceback.extract_tb(result.exc_info[2]) if "/archive/" in f.filename]
    where = "".join(traceback.format_list(frames[-3:]))
    return f"{result.exception!r}\n{where}"


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def counts(db: Path) -> dict[str, int]:
    return {table: rows(db, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def table_hash(db: Path, sql: str) -> str:
    digest = hashlib.sha256()
    for row in rows(db, sql):
        digest.update(repr(row).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@cache
def _parsed(path: str, sha256: str) -> Record:
    data = Path(path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256, f"{path} changed on disk"
    return parse_record(data, source=path)


def assert_sound(db: Path) -> None:
    """SQLite's own checks: the file is intact and no row points at a missing row."""
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def assert_files_fully_in(db: Path) -> int:
    """Every file with a source_file row is completely in; return how many there are.

    Assumes each article has one record file (true of the generated corpora): the
    file's article is a full row pointing at that file, with exactly the file's
    distinct topics, its images and its related entries.
    """
    assert_sound(db)
    connection = sqlite3.connect(db)
    try:
        files = connection.execute("SELECT id, path, sha256, text FROM source_file").fetchall()
        for source_id, path, sha256, text in files:
            record = _parsed(path, sha256)
            assert text == record.text, f"{path}: stored text differs from the file"
            key = identity.url_key(record.article.url)
            found = connection.execute(
                "SELECT a.id, a.is_stub, a.source_file_id FROM article_url u"
                " JOIN article a ON a.id = u.article_id WHERE u.url_key = ?",
                (key,),
            ).fetchall()
            assert len(found) == 1, f"{path}: article {key} missing"
            article_id, is_stub, article_source = found[0]
            assert (is_stub, article_source) == (0, source_id), f"{path}: article not complete"

            def linked(table: str, article_id: int = article_id) -> int:
                return connection.execute(
                    f"SELECT count(*) FROM {table} WHERE article_id = ?", (article_id,)
                ).fetchone()[0]

            topics = {identity.topic_key(name) for name in record.topics}
            assert linked("article_topic") == len(topics), f"{path}: topics"
            assert linked("related_link") == len(record.related), f"{path}: related links"
            assert linked("article_image") == len(record.article.images), f"{path}: images"
        topic_columns = {row[1] for row in connection.execute("PRAGMA table_info(article_topic)")}
        if {"provider_id", "published_at"} <= topic_columns:
            # Revision 0003 copies these from the article: they must never drift from it.
            drifted = connection.execute(
                "SELECT count(*) FROM article_topic t JOIN article a ON a.id = t.article_id"
                " WHERE t.provider_id IS NOT a.provider_id OR t.published_at IS NOT a.published_at"
            ).fetchone()[0]
            assert drifted == 0, f"{drifted} article_topic rows disagree with their article"
        return len(files)
    finally:
        connection.close()


def imported_paths(db: Path) -> list[str]:
    return [path for (path,) in rows(db, "SELECT path FROM source_file ORDER BY id")]


def dump_files(db: Path, folder: Path) -> dict[str, bytes]:
    result = run_archive(db, "dump", str(folder))
    assert result.returncode == 0, result.stderr
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def committed_files(db: Path) -> int:
    """How many files an import running on `db` has committed, as a reader sees it.

    Read-only, so looking cannot change what is looked at. 0 while there is nothing
    to read yet (no file, no schema, or the schema being created).
    """
    try:
        connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return 0
    try:
        return connection.execute("SELECT count(*) FROM source_file").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


def wait_for_commits(proc: subprocess.Popen, db: Path, files: int) -> int:
    """Wait until the import `proc` has committed `files` files, or has ended; return
    how many it had committed then.

    What ends the wait is the import's progress, never a time: the clock only turns
    an import that stopped making progress into a failure, after HANG_SECONDS.
    """
    deadline = time.monotonic() + HANG_SECONDS
    while (seen := committed_files(db)) < files and proc.poll() is None:
        if time.monotonic() > deadline:
            kill_group(proc)
            raise AssertionError(f"{seen} files committed after {HANG_SECONDS} s, never {files}")
        time.sleep(0.005)  # between looks only
    return seen


def bound_by_permissions() -> None:
    """In a child process, before exec: give up root's power over permission bits
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER), so they bind it as any user;
    a process that is not root has no such power to give up."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2, 3):
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def sample_archive(db: Path) -> Path:
    """An archive of data/ at `db`, imported by a real process."""
    from conftest import DATA

    result = run_archive(db, "import", "--quiet", str(DATA))
    assert result.returncode == 0, result.stderr
    return db
