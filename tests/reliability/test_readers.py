"""Readers see committed states only, also a reader who may not write the archive's folder.

The archive and its folder belong to another user (OWNER); imports run as root,
as an owner's would; the readers run in processes bound by permission bits (root
without the capabilities that let it ignore them, as tests/test_mistakes.py does),
so the folder is read-only to them, as to any other user. They read the way
`archive`'s readers do (reading_process.py): the query commands and the library,
`archive sql`, `archive serve`.

Every snapshot a reader sees must be a committed state: the import commits every
250 files, and the state after n files is known from the finished archive (its
files in commit order), so a snapshot is checked against the list of them. In one
read transaction the snapshot never changes. A reader that cannot read safely must
refuse with the documented line, never read a state half-written.

What happens when is set by the test, never by timing: a read is opened, then an
import runs, then the same read checks again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_SECONDS
from reliability_checks import bound_by_permissions, generate, kill_group, start_archive

from archive.errors import ArchiveUnavailable

OWNER = 4242  # a uid that is neither root nor the readers
SEED_FILES = 500
PART_FILES = 500
PARTS = 6
CHUNK = 250  # the importer's chunk: --commit-every 1 commits after each
KINDS = ("reader", "sql", "serve")
READING_PROCESS = Path(__file__).with_name("reading_process.py")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: the archive must belong to another user"
)


class ReadingProcess:
    """A reader bound by permission bits (reading_process.py), one command at a time."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(READING_PROCESS), str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=db.parent,
            env={k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"},
            preexec_fn=bound_by_permissions,
        )

    def ask(self, command: str) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the reading process ended (status {self.process.poll()})"
        answer = json.loads(line)
        assert "failed" not in answer, f"{command}: {answer}"
        return answer

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            self.process.wait(timeout=HANG_SECONDS)


def committed_states(db: Path) -> set[tuple[int, ...]]:
    """Every state an import left committed: the first n files (in commit order, which
    is id order) for every n the imports committed at."""
    connection = sqlite3.connect(db)
    try:
        files = connection.execute(
            "SELECT article_id, length(text) FROM source_file ORDER BY id"
        ).fetchall()
    finally:
        connection.close()
    states = set()
    for n in range(SEED_FILES, len(files) + 1, CHUNK):
        first = files[:n]
        articles = len({article for article, _ in first})
        states.add((n, articles, articles, sum(size for _, size in first)))
    return states


def tidy(db: Path) -> None:
    """Let go of the -wal/-shm files a reader's connection kept (the last connection to
    close, with write access, checkpoints and removes them): nobody has it open now."""
    connection = sqlite3.connect(db)
    connection.execute("SELECT count(*) FROM source_file").fetchone()
    connection.close()
    assert not list(db.parent.glob("*-shm")), "someone still has the archive open"


def sidecars(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name != db.name)


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The owner's archive (the seed imported) in the owner's folder, and the parts to
    import into it one after another."""
    corpus = tmp_path / "corpus"
    paths = generate(corpus, SEED_FILES + PARTS * PART_FILES)
    parts = []
    for index in range(PARTS):
        part = tmp_path / f"part-{index}"
        part.mkdir()
        start = SEED_FILES + index * PART_FILES
        for path in paths[start : start + PART_FILES]:
            path.rename(part / path.name)
        parts.append(part)
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "archive.db"
    done = subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "--quiet", str(corpus)],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    shutil.chown(folder, OWNER, OWNER)
    shutil.chown(db, OWNER, OWNER)
    folder.chmod(0o755)
    db.chmod(0o644)
    return db, parts


def import_part(db: Path, part: Path, log: Path, reading: ReadingProcess | None) -> list[list[int]]:
    """Import `part` (a commit every 250 files); meanwhile `reading` reads again and
    again on what it has open. Returns what it read."""
    proc = start_archive(
        db, "import", "--quiet", "--workers", "1", "--commit-every", "1", str(part), log=log
    )
    read = []
    try:
        while reading is not None and proc.poll() is None:
            read.append(reading.ask("check")["snapshot"])
        assert proc.wait(timeout=HANG_SECONDS) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            kill_group(proc)
    if reading is not None:
        read.append(reading.ask("check")["snapshot"])
    return read


def one_state(kind: str, snapshots: list[list[int]]) -> None:
    """A read transaction sees one state (`archive sql` reads a statement at a time)."""
    if kind != "sql":
        assert all(s == snapshots[0] for s in snapshots), f"{kind}: one read saw two states"


def test_readers_see_only_committed_states_during_imports(shared, tmp_path):
    db, parts = shared
    first, second = ReadingProcess(db), ReadingProcess(db)
    seen: list[tuple[str, list[int]]] = []
    refusals: list[str] = []
    try:
        for index, part in enumerate(parts):
            kind = KINDS[index // 2 % len(KINDS)]
            tidy(db)
            if index % 2 == 0:
                # Nobody has the archive open: no -wal/-shm file. A read begun now
                # must not see the import that starts next, or must refuse to begin.
                opened = first.ask(f"open {kind}")
                if "refused" in opened:
                    refusals.append(opened["refused"])
                    assert opened["exit"] == ArchiveUnavailable.exit_code == 5, opened
                reading = first if "snapshot" in opened else None
                read = import_part(db, part, tmp_path / f"{index}.log", reading)
                if reading is not None:
                    read.insert(0, opened["snapshot"])
                    seen += [(kind, snapshot) for snapshot in read]
                    one_state(kind, read)
                first.ask("close")
            else:
                # Another process keeps the archive open (its -wal/-shm files exist):
                # the read begins there, and the import commits inside it.
                keeper = sqlite3.connect(db)
                try:
                    keeper.execute("SELECT count(*) FROM source_file").fetchone()
                    opened = second.ask(f"open {kind}")
                    assert "snapshot" in opened, f"{kind}: {opened}"
                    read = import_part(db, part, tmp_path / f"{index}.log", second)
                    read.insert(0, opened["snapshot"])
                    seen += [(kind, snapshot) for snapshot in read]
                    one_state(kind, read)
                    second.ask("close")
                finally:
                    keeper.close()
    finally:
        first.end()
        second.end()
    states = committed_states(db)
    for kind, snapshot in seen:
        assert tuple(snapshot) in states, f"{kind} saw a state never committed: {snapshot}"
    for refusal in refusals:
        assert refusal.startswith(f"cannot read archive {db} safely:"), refusal
        assert "\n" not in refusal


def run_as(db: Path, *args: str, reader: bool) -> subprocess.CompletedProcess:
    """The real CLI on `db`, as a reader bound by permission bits or as root."""
    return subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), *args],
        capture_output=True,
        text=True,
        cwd=db.parent.parent,
        env={k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"},
        timeout=HANG_SECONDS,
        preexec_fn=bound_by_permissions if reader else None,
    )


@pytest.fixture
def owned(tmp_path: Path) -> Path:
    """A small archive (data/) in a folder of OWNER's, nobody connected to it."""
    from conftest import DATA

    folder = tmp_path / "owned"
    folder.mkdir()
    db = folder / "archive.db"
    assert run_as(db, "import", "--quiet", str(DATA), reader=False).returncode == 0
    shutil.chown(folder, OWNER, OWNER)
    shutil.chown(db, OWNER, OWNER)
    db.chmod(0o644)
    return db


def test_a_read_that_cannot_be_safe_is_one_line_and_exit_5(owned):
    """Its owner may import at any moment, and no -shm file lets this reader see it:
    refused, as every reader refuses it; the folder is left as it was."""
    before = sidecars(owned)
    for args in (["stats"], ["sql", "SELECT count(*) FROM article"], ["export", "topic"]):
        done = run_as(owned, *args, reader=True)
        assert done.returncode == 5, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr == (
            f"error: cannot read archive {owned} safely: its folder {owned.parent} is read-only"
            " to you and no SQLite -shm file is beside it, so nothing would stop an import from"
            f" changing it mid-read; its owner can freeze it for readers (chmod a-w {owned}) or"
            " let you write the folder\n"
        )
    assert sidecars(owned) == before == []


def test_a_frozen_archive_is_read_by_anyone_and_imported_by_no_one(owned):
    """chmod a-w: nobody can change it, so readers read it without locks and leave
    nothing beside it, and import refuses it, root included (readers rely on that)."""
    from conftest import REAL

    owned.chmod(0o444)
    expected = run_as(owned, "stats", reader=False)
    assert expected.returncode == 0, expected.stderr
    done = run_as(owned, "stats", reader=True)
    assert (done.returncode, done.stdout) == (0, expected.stdout), done.stderr
    refused = run_as(owned, "import", str(REAL), reader=False)
    assert refused.returncode == 5, refused.stderr
    assert f"cannot write to archive {owned}: the file is read-only" in refused.stderr
    assert sidecars(owned) == []
    owned.chmod(0o644)
    owned.parent.chmod(0o555)  # the folder frozen instead: the same
    try:
        assert run_as(owned, "stats", reader=True).stdout == expected.stdout
        refused = run_as(owned, "import", str(REAL), reader=False)
        assert refused.returncode == 5 and "is read-only" in refused.stderr, refused.stderr
    finally:
        owned.parent.chmod(0o755)
    assert sidecars(owned) == []


def test_completion_reads_as_the_other_readers_do(owned, monkeypatch):
    """Shell completion: nothing from an archive it cannot read safely, and names from
    a frozen one; neither leaves a file beside it."""
    from archive.query import names

    assert "AI" in names.topic_names(str(owned))  # root: it may write the folder
    monkeypatch.setattr(os, "access", lambda path, mode: not mode & os.W_OK)
    assert names.topic_names(str(owned)) == []
    owned.chmod(0o444)
    assert "AI" in names.topic_names(str(owned))
    assert sidecars(owned) == []
