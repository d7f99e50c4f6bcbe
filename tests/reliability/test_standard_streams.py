"""Closed or full stdin, stdout and stderr: one line and a documented status, never
a traceback. Real processes, since only they have real file descriptors.

Before: `archive --help > /dev/full` and `--version > /dev/full` printed tracebacks,
`archive topics >&-` and `archive import - <&-` ended with exit status 70.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import record
from reliability_checks import (
    archive_command,
    assert_sound,
    clean_env,
    rows,
    sample_archive,
)

from archive.errors import EXIT_STATUSES, OutputError, RecordError

OUTPUT_ERROR = OutputError.exit_code
REJECTED = 1
HANG = 120


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return sample_archive(tmp_path / "s.db")


def run(
    db: Path, *args: str, close: tuple[int, ...] = (), **streams
) -> subprocess.CompletedProcess:
    """The CLI with the descriptors `close` closed, as `>&-`, `<&-`, `2>&-` do."""

    def closing() -> None:
        for fd in close:
            os.close(fd)

    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams}
    env = clean_env()
    env["XDG_STATE_HOME"] = str(db.parent / "state")  # where a crash report would go
    return subprocess.run(
        archive_command(db, *args), preexec_fn=closing, timeout=HANG, env=env,
        cwd=db.parent, **options,
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess, status: int) -> str:
    stderr = result.stderr.decode("utf-8")
    assert b"Traceback" not in result.stderr, stderr
    assert result.returncode == status, (result.returncode, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def no_crash_report(db: Path) -> None:
    assert not (db.parent / "state").exists(), "an internal error was reported"


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_into_a_full_device(db, option):
    with open("/dev/full", "wb") as full:
        result = run(db, option, stdout=full)
    line = one_line(result, OUTPUT_ERROR)
    assert line == "error: cannot write to standard output: No space left on device"


def test_an_answer_into_a_full_device(db):
    with open("/dev/full", "wb") as full:
        result = run(db, "export", "article", stdout=full)
    assert one_line(result, OUTPUT_ERROR).startswith("error: cannot write to standard output")
    no_crash_report(db)


def test_closed_stdout(db, tmp_path):
    result = run(db, "topics", close=(1,), stdout=None)
    line = one_line(result, OUTPUT_ERROR)
    assert line == "error: cannot write to standard output: it is closed"
    no_crash_report(db)
    # Output to a file needs no stdout: it works, and nothing lands in the file but
    # the answer (the file would otherwise be opened on descriptor 1).
    out = tmp_path / "topics.csv"
    result = run(db, "topics", "-o", str(out), close=(1,), stdout=None)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("name,articles")


def test_closed_stdin_rejects_the_record_it_was_to_bring(db):
    before = rows(db, "SELECT count(*) FROM source_file")
    result = run(db, "import", "-", close=(0,), stdin=None)
    stderr = result.stderr.decode("utf-8")
    assert b"Traceback" not in result.stderr, stderr
    assert result.returncode == REJECTED, stderr
    assert "rejected: -: cannot read file: standard input is closed" in stderr.splitlines()
    assert rows(db, "SELECT count(*) FROM source_file") == before
    no_crash_report(db)


def test_closed_stderr_changes_nothing_but_the_messages(db, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "good.md").write_text(record("https://example.com/good"))
    (folder / "bad.md").write_text("---\nwebUrl: [\n---\n")
    result = run(db, "import", str(folder), close=(2,), stderr=None)
    assert result.returncode == REJECTED
    assert_sound(db)
    assert rows(db, "SELECT count(*) FROM source_file WHERE path LIKE '%good.md'") == [(1,)]
    # A failure with stderr closed keeps its status; nothing is written where it was.
    result = run(db, "--db", str(tmp_path / "missing.db"), "topics", close=(2,), stderr=None)
    assert result.returncode == 5
    assert result.stdout == b""
    no_crash_report(db)


def test_a_full_stderr_is_not_a_crash(db):
    with open("/dev/full", "wb") as full:
        result = run(db, "topics", "--limit", "x", stderr=full)
    assert result.returncode == 2
    no_crash_report(db)


def test_the_statuses_are_documented():
    meanings = dict(EXIT_STATUSES)
    assert "stdout" in meanings[OUTPUT_ERROR]
    assert RecordError.exit_code == REJECTED
