"""`-o FILE` writes regular files only, and never the archive: also with --force.

Writing goes through a temporary file renamed into place, so a FIFO, a socket or a
device given as FILE would be replaced by a regular file (as root, /dev/null became
a CSV file), and `-o archive.db --force` replaced the archive with its own answer.
Each is refused with one line and exit status 6, and the target is left as it was.
Real processes, as a user runs them.
"""

from __future__ import annotations

import hashlib
import os
import resource
import socket
import stat
import subprocess
from pathlib import Path

import pytest
from reliability_checks import archive_command, assert_sound, clean_env, run_archive, sample_archive

from archive.errors import OutputError

OUTPUT_ERROR = OutputError.exit_code


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_archive(tmp_path / "o.db")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(db: Path, *args: str) -> str:
    """Run an -o command that must be refused; return its one error line."""
    result = run_archive(db, *args)
    assert result.returncode == OUTPUT_ERROR, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    leftovers = [p.name for p in db.parent.iterdir() if p.name.endswith(".part")]
    assert leftovers == [], "the temporary file was left behind"
    return lines[0]


def test_a_fifo_or_a_socket_is_not_replaced(db, tmp_path, monkeypatch):
    fifo = tmp_path / "answer.csv"
    os.mkfifo(fifo)
    line = refused(db, "topics", "-o", str(fifo), "--force")
    assert "FIFO" in line and str(fifo) in line, line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)

    monkeypatch.chdir(tmp_path)  # a socket's path must be short: bind a relative one
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind("s.json")
        line = refused(db, "export", "article", "-o", str(tmp_path / "s.json"), "--force")
        assert "socket" in line, line
        assert stat.S_ISSOCK(os.lstat(tmp_path / "s.json").st_mode)
    finally:
        listener.close()


def test_dev_null_stays_a_device(db):
    before = os.stat("/dev/null")
    try:
        line = refused(db, "topics", "-o", "/dev/null", "--force")
        assert "character device" in line, line
    finally:
        after = os.lstat("/dev/null")
        if not stat.S_ISCHR(after.st_mode):  # put the machine's /dev/null back, then fail
            os.unlink("/dev/null")
            os.mknod("/dev/null", stat.S_IFCHR | 0o666, before.st_rdev)
            os.chmod("/dev/null", 0o666)
    assert stat.S_ISCHR(after.st_mode), "/dev/null was replaced by a regular file"
    assert after.st_rdev == before.st_rdev


@pytest.mark.parametrize(
    "spelling",
    ["same name", "another spelling", "hard link", "wal", "shm", "journal"],
)
def test_the_archive_and_its_wal_and_shm_are_never_overwritten(db, tmp_path, spelling):
    (tmp_path / "sub").mkdir()
    target = {
        "same name": str(db),
        "another spelling": str(tmp_path / "sub" / ".." / "o.db"),
        "hard link": str(tmp_path / "again.db"),
        "wal": f"{db}-wal",
        "shm": f"{db}-shm",
        "journal": f"{db}-journal",
    }[spelling]
    if spelling == "hard link":
        os.link(db, target)
    before = digest(db)
    line = refused(db, "sql", "SELECT 1 AS x", "-o", target, "--force", "--format", "csv")
    assert "archive" in line and "refusing to overwrite" in line, line
    assert digest(db) == before
    assert_sound(db)
    if spelling in ("wal", "shm", "journal"):
        assert not Path(target).exists(), "SQLite would take this file for its own"
    assert run_archive(db, "stats").returncode == 0


def test_serve_write_metadata_is_refused_over_the_archive(db):
    before = digest(db)
    refused(db, "serve", "--write-metadata", str(db), "--force")
    assert digest(db) == before


def test_a_regular_file_is_still_replaced_through_a_rename(db, tmp_path):
    target = tmp_path / "topics.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    inode = os.stat(target).st_ino
    result = run_archive(db, "topics", "-o", str(target), "--force")
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("name,articles")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640, "the old file's mode is kept"
    assert os.stat(target).st_ino != inode, "written beside the target and renamed"


@pytest.mark.parametrize("command", ["export", "sql"])
def test_a_disk_that_fills_while_writing_leaves_the_old_file(db, tmp_path, command):
    # export formats in a second process (output/offload.py), sql in this one: a
    # full disk is one line and status 6 for both. RLIMIT_FSIZE fails the writes
    # past its size as a full disk would.
    target = tmp_path / "numbers.csv"
    target.write_text("old\n")
    many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100000) SELECT x FROM c"
    args = ["export", "--query", many] if command == "export" else ["sql", many]

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    result = subprocess.run(
        archive_command(db, *args, "-o", str(target), "--force"), capture_output=True,
        text=True, preexec_fn=small_disk, env=clean_env(), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == OUTPUT_ERROR, result.stderr
    assert result.stderr == f"error: cannot write {target}: File too large\n"
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
