"""An import on a terminal: progress that informs, waiting shown, Ctrl-C that keeps its word.

Each import runs in its own process on a pseudo terminal (stderr is a tty, as for a
person at a shell), so what is checked is what that person sees; Ctrl-C is typed
into the terminal, which sends SIGINT to the whole foreground process group, the
parser processes too. The tests wait on what the import prints or commits, never
on a delay; the clock only turns a hang into a failure (HANG_SECONDS).

"The same archive" after an interrupted import and its re-run is compared by
content: every file written back by `archive dump`, and the rows of every table
with each id replaced by what it stands for (a URL, a key, a path): ids and
`imported_at` times legitimately differ between runs.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import HANG_SECONDS, ROOT

from archive.cli.progress import ETA_AFTER_SECONDS, Speed
from archive.store.models import TABLE_NAMES

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

FILES = 2000
BAD = ("0000/0500_bad.md", "0001/0500_bad.md", "0001/0900_bad.md")
TOTAL = FILES + len(BAD)
COLUMNS = 100
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = re.compile(r"([\d,]+)/([\d,]+) files")


def _env(columns: int = COLUMNS) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ARCHIVE_DB", None)
    env.pop("NO_COLOR", None)
    env.update(COLUMNS=str(columns), LINES="40", TERM="xterm-256color")
    return env


def _command(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "archive", "--db", str(db), *args]


class Terminal:
    """`archive` running on a pseudo terminal: read what it shows, type Ctrl-C."""

    def __init__(self, db: Path, *args: str, columns: int = COLUMNS) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.proc = subprocess.Popen(
            _command(db, *args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=_env(columns),
            cwd=db.parent,
            start_new_session=True,
            # The terminal becomes the session's controlling terminal, so that Ctrl-C
            # typed into it signals the import's process group, as a shell's would.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.raw = b""
        self.deadline = time.monotonic() + HANG_SECONDS

    @property
    def text(self) -> str:
        """What was shown, without colours and cursor movements."""
        return ANSI.sub("", self.raw.decode("utf-8", errors="replace"))

    def _read(self) -> bool:
        """Read what is there (waiting a little for it); False at the end of output."""
        assert time.monotonic() < self.deadline, f"hung after {HANG_SECONDS} s:\n{self.text}"
        ready, _, _ = select.select([self.master], [], [], 0.1)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has ended
            return False
        self.raw += data
        return bool(data)

    def wait_for(self, pattern: str | re.Pattern[str]) -> re.Match[str]:
        while not (found := re.search(pattern, self.text)):
            assert self._read(), f"ended without showing {pattern!r}:\n{self.text}"
        return found

    def wait_until(self, condition: Callable[[str], bool]) -> None:
        while not condition(self.text):
            assert self._read(), f"ended before the awaited moment:\n{self.text}"

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")

    def finish(self) -> int:
        while self._read():
            pass
        os.close(self.master)
        return self.proc.wait(timeout=HANG_SECONDS)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _done(text: str) -> int:
    """The largest file count the bar has shown."""
    return max((int(m.group(1).replace(",", "")) for m in PROGRESS.finditer(text)), default=0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("terminal") / "records"
    generate(folder, FILES)
    for number, name in enumerate(BAD):
        bad = f'---\nwebUrl: "https://bad.example/{number}"\nquality: high\n---\n'
        (folder / name).write_text(bad)
    return folder


def _run(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(db, *args),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=HANG_SECONDS,
        cwd=db.parent,
    )


@pytest.fixture(scope="module")
def clean(corpus: Path, tmp_path_factory) -> Path:
    """The corpus imported once, without interruption (and without a terminal)."""
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    result = _run(db, "import", str(corpus))
    assert result.returncode == 1, result.stderr  # the bad files
    return db


def _rows(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _content(db: Path, dump_to: Path) -> dict[str, object]:
    """What the archive holds, independent of ids and import times (see the docstring)."""
    result = _run(db, "dump", str(dump_to))
    assert result.returncode == 0, result.stderr
    content: dict[str, object] = {
        "dump": {
            p.relative_to(dump_to).as_posix(): p.read_bytes()
            for p in dump_to.rglob("*")
            if p.is_file()
        },
        "articles": _rows(
            db,
            "SELECT url, title, published_at, is_stub, extra FROM article ORDER BY url",
        ),
        "files": _rows(db, "SELECT path, sha256, text FROM source_file ORDER BY path"),
        "integrity": _rows(db, "PRAGMA integrity_check"),
    }
    # Every table's rows, with each id replaced by what it stands for.
    linked = {
        "provider": "SELECT key, name, domain, extra FROM provider",
        "topic": "SELECT key, name FROM topic",
        "image": "SELECT url, width, height, is_cached, extra FROM image",
        "article": "SELECT a.url, p.key, s.path FROM article a"
        " LEFT JOIN provider p ON p.id = a.provider_id"
        " LEFT JOIN source_file s ON s.id = a.source_file_id",
        "article_topic": "SELECT a.url, t.key, x.position, p.key, x.published_at"
        " FROM article_topic x JOIN article a ON a.id = x.article_id"
        " JOIN topic t ON t.id = x.topic_id LEFT JOIN provider p ON p.id = x.provider_id",
        "article_image": "SELECT a.url, x.position, i.url FROM article_image x"
        " JOIN article a ON a.id = x.article_id JOIN image i ON i.id = x.image_id",
        "related_link": "SELECT a.url, x.position, r.url FROM related_link x"
        " JOIN article a ON a.id = x.article_id JOIN article r ON r.id = x.related_article_id",
        "article_url": "SELECT x.url_key, a.url, x.alias FROM article_url x"
        " JOIN article a ON a.id = x.article_id",
        "source_file": "SELECT s.path, s.size, s.status, a.url, c.key, s.rel_path"
        " FROM source_file s LEFT JOIN article a ON a.id = s.article_id"
        " LEFT JOIN collection c ON c.id = s.collection_id",
        "collection": "SELECT key, kind, name, last_commit FROM collection",
        # A story by its origin article; its members and index keys by URL.
        "story": "SELECT o.url, s.articles, s.providers, s.first_published FROM story s"
        " JOIN article o ON o.id = s.origin_article_id",
        "article_story": "SELECT a.url, o.url, x.title_key, x.signature, x.shingles"
        " FROM article_story x JOIN article a ON a.id = x.article_id"
        " JOIN story s ON s.id = x.story_id JOIN article o ON o.id = s.origin_article_id",
        "story_band": "SELECT x.key, a.url, x.band FROM story_band x"
        " JOIN article a ON a.id = x.article_id",
    }
    assert set(linked) == set(TABLE_NAMES)
    for table, sql in linked.items():
        content[table] = sorted(_rows(db, sql), key=repr)
    return content


def _missing_indexes(db: Path) -> list[str]:
    from archive.store.deferred_indexes import DEFERRED

    present = {name for (name,) in _rows(db, "SELECT name FROM sqlite_master")}
    return [name for name in DEFERRED if name not in present]


# --- the progress line -------------------------------------------------------------


def test_progress_shows_counts_rate_time_left_and_messages_on_their_own_lines(
    corpus: Path, tmp_path: Path
) -> None:
    db = tmp_path / "progress.db"
    terminal = Terminal(db, "import", str(corpus))
    try:
        terminal.wait_until(lambda text: _done(text) > 0)
        # Hold the import still past the time the estimate waits for. Not a wait for
        # something to happen: it makes the import's clock pass that threshold while
        # its count stands, on a fast machine as on a slow one.
        os.kill(terminal.proc.pid, signal.SIGSTOP)
        time.sleep(ETA_AFTER_SECONDS + 0.5)
        os.kill(terminal.proc.pid, signal.SIGCONT)
        status = terminal.finish()
    finally:
        terminal.kill()
    text = terminal.text
    assert status == 1, text  # the bad files
    assert "Traceback" not in text
    assert re.search(rf"[\d,]+/{TOTAL:,} files · [\d.,]+ files/s · \d+:\d\d left", text), text
    assert f"{TOTAL:,}/{TOTAL:,} files" in text
    # A rejected file's line is a line of its own: it starts after a line break or a
    # cleared line, never after the bar's text, and ends with a line break.
    rejected = [m.start() for m in re.finditer("rejected: ", text)]
    assert len(rejected) == len(BAD), text
    for start in rejected:
        assert text[start - 1] in "\r\n", text[max(0, start - 120) : start + 120]
        line = text[start:].split("\n", 1)[0].rstrip("\r")
        assert re.fullmatch(r"rejected: \S+_bad\.md:3: quality: .*", line), line
    assert "files: 2003 seen, 2000 new, 0 updated, 0 unchanged, 3 rejected" in text


@pytest.mark.parametrize("columns", [80, 60])
def test_the_last_progress_line_is_one_line_within_the_terminal(
    corpus: Path, tmp_path: Path, columns: int
) -> None:
    """The final `Imported … took 0:01` line used to wrap its last words onto a line
    of their own; the bar gives up the room instead."""
    db = tmp_path / "narrow.db"
    terminal = Terminal(db, "import", str(corpus / "0001"), columns=columns)
    try:
        terminal.finish()
    finally:
        terminal.kill()
    shown = [line for line in re.split(r"[\r\n]", terminal.text) if line.strip()]
    progress = [line for line in shown if "files" in line and "━" in line]
    assert progress, terminal.text
    assert all(len(line) <= columns for line in progress), progress
    assert re.search(r"Imported ━+ [\d,]+/[\d,]+ files · .* took \d+:\d\d$", progress[-1].rstrip())


def test_no_progress_when_piped(corpus: Path, tmp_path: Path) -> None:
    result = _run(tmp_path / "piped.db", "import", str(corpus / "0001"))
    assert "files/s" not in result.stderr and "\r" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[0].startswith("rejected: "), result.stderr


def test_the_estimate_counts_only_files_that_needed_work() -> None:
    """After an interrupted import, the files it did are skipped in a rush: the time
    left follows the files that needed work, and waits for them."""
    now = [0.0]
    speed = Speed(clock=lambda: now[0])
    for second in range(1, 4):  # 3 s of skipped files only: 1,000 a second
        now[0] = float(second)
        speed.add(done=1000 * second, worked=0)
    assert speed.rate() == pytest.approx(1000)
    assert speed.seconds_left(total=10_000) is None
    for second in range(4, 30):  # then 100 files a second that needed work
        now[0] = float(second)
        speed.add(done=3000 + 100 * (second - 3), worked=100 * (second - 3))
    assert speed.seconds_left(total=10_000) == pytest.approx((10_000 - 5600) / 100)
    early = Speed(clock=lambda: now[0])
    now[0] += ETA_AFTER_SECONDS / 2
    early.add(done=500, worked=500)
    assert early.seconds_left(total=10_000) is None  # too soon to tell


# --- Ctrl-C ------------------------------------------------------------------------


def test_ctrl_c_keeps_what_was_imported_and_a_rerun_completes_the_same_archive(
    corpus: Path, clean: Path, tmp_path: Path
) -> None:
    db = tmp_path / "interrupted.db"
    # A commit after every chunk, so that something is saved when Ctrl-C comes.
    terminal = Terminal(db, "import", "--commit-every", "1", str(corpus))
    try:
        terminal.wait_until(lambda text: _done(text) > 0)
        terminal.ctrl_c()
        status = terminal.finish()
    finally:
        terminal.kill()
    text = terminal.text
    assert status == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    saved = int(re.search(r"interrupted: ([\d,]+) files? saved; run the same import", text)[1])
    committed = _rows(db, "SELECT count(*) FROM source_file")[0][0]
    assert 0 < committed < FILES, text
    # Saved counts the bad files it got to as well (they are done: reported).
    assert committed <= saved <= committed + len(BAD), text
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _missing_indexes(db) == []  # the first Ctrl-C still builds them

    rerun = _run(db, "import", str(corpus))
    assert rerun.returncode == 1, rerun.stderr
    assert f"{committed} unchanged" in rerun.stderr, rerun.stderr
    assert _content(db, tmp_path / "dump-rerun") == _content(clean, tmp_path / "dump-clean")


def test_a_second_ctrl_c_skips_the_index_build_and_the_next_import_builds_them(
    corpus: Path, clean: Path, tmp_path: Path
) -> None:
    """Held at the write lock, the import is stopped while it waits, then waits again to
    build its indexes, where the second Ctrl-C finds it: no race with the build."""
    db = tmp_path / "twice.db"
    terminal = Terminal(db, "import", "--commit-every", "1", str(corpus))
    holder = None
    try:
        terminal.wait_until(lambda text: _done(text) > 0)
        holder = sqlite3.connect(db, timeout=HANG_SECONDS, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # between two of the import's transactions
        terminal.wait_for("Waiting for another import to finish")
        terminal.ctrl_c()
        terminal.wait_for("press Ctrl-C again to skip building indexes")
        terminal.ctrl_c()
        status = terminal.finish()
    finally:
        if holder is not None:
            holder.close()
        terminal.kill()
    text = terminal.text
    assert status == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert re.search(r"interrupted: [\d,]+ files? saved", text), text
    assert "the query indexes were not built" in text, text
    assert _missing_indexes(db), "the index build was not skipped"

    # Queries answer the same without them, only slower.
    query = ["providers", "--topic", "AI", "--format", "csv"]
    without = _run(db, *query)
    assert without.returncode == 0, without.stderr
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    assert _run(db, "import", str(nothing)).returncode == 0
    assert _missing_indexes(db) == []  # the next import built them
    assert _run(db, *query).stdout == without.stdout

    assert _run(db, "import", str(corpus)).returncode == 1
    assert _content(db, tmp_path / "dump-rerun") == _content(clean, tmp_path / "dump-clean")


def test_waiting_for_another_import_is_shown_and_the_import_then_finishes(
    corpus: Path, tmp_path: Path
) -> None:
    db = tmp_path / "waiting.db"
    assert _run(db, "import", str(ROOT / "data")).returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    terminal = Terminal(db, "import", str(corpus / "0000"))
    try:
        terminal.wait_for("Waiting for another import to finish…")
        holder.execute("ROLLBACK")
        status = terminal.finish()
    finally:
        holder.close()
        terminal.kill()
    text = terminal.text
    assert status == 1, text  # 0000/0500_bad.md
    assert "files: 1001 seen, 1000 new" in text, text
    assert "Traceback" not in text


def test_abort_stops_an_index_build_that_is_running(tmp_path: Path) -> None:
    """A second Ctrl-C must not wait for a CREATE INDEX over a large archive to end
    (the issue saw ~30 s of that): SQLite's progress handler stops the statement.
    Here the abort comes just before the build, so it finds the statement running
    whatever the machine's speed; the CLI's Ctrl-C reaches the same flag."""
    from archive.ingest.importer import Importer
    from archive.store import database
    from archive.store.deferred_indexes import DEFERRED

    db = tmp_path / "large.db"
    database.open_archive(str(db)).close()
    connection = sqlite3.connect(db, isolation_level=None)
    # Rows enough for the build to run many SQLite steps; their meaning is irrelevant.
    connection.execute("PRAGMA foreign_keys = OFF")
    for name in DEFERRED:
        connection.execute(f"DROP INDEX IF EXISTS {name}")
    connection.execute(
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 200000)"
        " INSERT INTO article_topic (article_id, topic_id, position, provider_id, published_at)"
        " SELECT i, i % 997, 0, i % 5000, '2020-01-01' FROM r"
    )
    connection.close()
    archive = database.open_archive(str(db))
    importer = Importer(archive)
    stages: list[str] = []

    def on_stage(label: str) -> None:
        stages.append(label)
        if label == "Building indexes":
            importer.abort()

    empty = tmp_path / "empty"
    empty.mkdir()
    try:
        with pytest.raises(KeyboardInterrupt):
            importer.run([str(empty)], on_stage=on_stage)
        assert stages == ["Building indexes"]
        assert importer.summary.indexes_pending
        assert _missing_indexes(db) == list(DEFERRED)
        Importer(archive).run([str(empty)])  # the next import builds them
        assert _missing_indexes(db) == []
    finally:
        archive.close()
