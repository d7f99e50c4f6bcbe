"""An import SIGKILLed at random points keeps only whole files, and re-running completes it.

README: "An import that is killed keeps every committed chunk, and re-running it
completes the work." Each kill takes the whole process group (the parser workers
too), like an OOM killer or a power cut of the process would.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import HANG_SECONDS
from reliability_checks import (
    archive_command,
    assert_files_fully_in,
    clean_env,
    counts,
    dump_files,
    generate,
    imported_paths,
    kill_group,
    rows,
    run_archive,
    start_archive,
    wait_for_commits,
)

FILES = 1500
KILLS = 8
SEED = 20240611  # the kill points are random, but the same on every run


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("kill") / "records"
    paths = generate(folder, FILES)
    return folder, sorted(str(p) for p in paths)


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory) -> Path:
    """The same corpus imported once, without interruption."""
    folder, _ = corpus
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    result = run_archive(db, "import", "--quiet", "--workers", "2", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def has_schema(db: Path) -> bool:
    return db.exists() and bool(rows(db, "SELECT 1 FROM sqlite_master WHERE name = 'source_file'"))


def test_sigkill_at_random_points_never_leaves_a_file_half_in(corpus, clean, tmp_path):
    folder, all_paths = corpus
    rng = random.Random(SEED)
    databases = [tmp_path / "killed-0.db"]
    interrupted = 0
    partial = False
    for attempt in range(KILLS):
        db = databases[-1]
        done = len(imported_paths(db)) if has_schema(db) else 0
        if done == FILES:
            # The previous run got to the end before its kill: start a new archive so
            # every attempt has something to interrupt.
            db = tmp_path / f"killed-{len(databases)}.db"
            databases.append(db)
            done = 0
        # Some files past those already in, and short of the end; with a commit after
        # every chunk, a kill lands between commits of this run, wherever the import
        # is in its next chunk.
        target = rng.randint(done + 1, FILES - 1)
        log = tmp_path / f"attempt-{attempt}.log"
        proc = start_archive(
            db, "import", "--quiet", "--workers", "2", "--commit-every", "1", str(folder), log=log
        )
        # The kill follows what the import has committed, never a delay, so a loaded
        # machine moves it no more than a fast one.
        seen = wait_for_commits(proc, db, target)
        kill_group(proc)  # the workers too, should the import have ended on its own
        if proc.returncode == -signal.SIGKILL:
            interrupted += 1
        else:  # it ended on its own, before the kill or just as it was sent
            assert proc.returncode == 0, (
                f"attempt {attempt}: exit {proc.returncode}: {log.read_text()}"
            )
        assert has_schema(db), f"attempt {attempt}: no archive after {seen} files committed"
        done = assert_files_fully_in(db)
        # A kill takes back nothing that was committed before it.
        assert done >= seen, f"attempt {attempt}: {done} files kept, {seen} were committed"
        # Chunks are applied and committed in sorted path order: what is in is a prefix.
        assert imported_paths(db) == all_paths[:done], f"attempt {attempt}: killed at {seen}"
        partial = partial or 0 < done < FILES
    assert interrupted >= 3, f"only {interrupted} kills hit a running import"
    assert partial, "no kill landed after some commits and before the end"

    clean_articles = rows(clean, "SELECT url, title, is_stub FROM article ORDER BY url")
    clean_counts = counts(clean)
    clean_dump = dump_files(clean, tmp_path / "dump-clean")
    # Every record file, and the order file that makes a re-import apply them alike.
    assert len(clean_dump) == FILES + 1 and ".archive-order" in clean_dump
    for number, db in enumerate(databases):
        result = run_archive(db, "import", "--workers", "2", str(folder))
        assert result.returncode == 0, result.stdout + result.stderr
        assert_files_fully_in(db)
        assert imported_paths(db) == all_paths
        assert rows(db, "SELECT url, title, is_stub FROM article ORDER BY url") == clean_articles
        assert counts(db) == clean_counts
        assert dump_files(db, tmp_path / f"dump-{number}") == clean_dump


ENDLESS_ROWS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
# Runs inside SQLite without returning a row: Ctrl-C can only land in its progress handler.
LONG_COUNT = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000)"
    " SELECT count(*) FROM c"
)
# The exports below are stopped by the test; their own time limit must not come first,
# however slow the machine.
NO_TIME_LIMIT = ["--timeout", str(10 * HANG_SECONDS)]
# More CPU than an export spends between opening the archive and starting its query
# (a few PRAGMAs and a schema check): once it has used this much after opening the
# archive, it is running the query. CPU time, not elapsed time, so a loaded machine
# only makes the wait longer.
QUERY_CPU_SECONDS = 0.5


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _has_open(pid: int, path: Path) -> bool:
    wanted = str(path.resolve())
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):  # closed while we looked
            if os.readlink(descriptor) == wanted:
                return True
    return False


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; the clock only turns a hang into a failure."""
    deadline = time.monotonic() + HANG_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"after {HANG_SECONDS} s, still not: {what}"
        time.sleep(0.005)  # between looks only


def wait_until_querying(proc: subprocess.Popen, db: Path) -> None:
    """Return once the export `proc` is inside its query (see QUERY_CPU_SECONDS)."""
    _wait_until(lambda: proc.poll() is not None or _has_open(proc.pid, db), "archive opened")
    assert proc.poll() is None, f"the export ended (exit {proc.returncode}) before its query"
    opened = _cpu_seconds(proc.pid)
    _wait_until(
        lambda: proc.poll() is not None or _cpu_seconds(proc.pid) - opened >= QUERY_CPU_SECONDS,
        "query running",
    )
    assert proc.poll() is None, f"the export ended (exit {proc.returncode}) during its query"


def test_a_killed_export_leaves_no_writing_process_behind(tmp_path, seed_dir):
    """The process that writes an export's file ends when the exporting one dies."""
    db = tmp_path / "export.db"
    assert run_archive(db, "import", str(seed_dir)).returncode == 0
    proc = start_archive(
        db, "export", "--query", ENDLESS_ROWS, *NO_TIME_LIMIT, "-o", str(tmp_path / "out.csv"),
        log=tmp_path / "log",
    )  # fmt: skip
    try:
        _wait_until(lambda: proc.poll() is not None or bool(_children(proc.pid)), "writing")
        children = _children(proc.pid) if proc.poll() is None else []
        assert children, "the export started no writing process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=HANG_SECONDS)
        _wait_until(lambda: not any(map(_running, children)), "the writing process ended")
    finally:
        kill_group(proc)


@pytest.mark.parametrize("query", [ENDLESS_ROWS, LONG_COUNT], ids=["rows", "no-rows"])
@pytest.mark.parametrize("to_file", [True, False], ids=["to-file", "to-stdout"])
def test_ctrl_c_stops_an_export_cleanly(tmp_path, seed_dir, to_file, query):
    """Ctrl-C (SIGINT to the process group) ends a long export: one line, no file, no process."""
    db = tmp_path / "export.db"
    assert run_archive(db, "import", str(seed_dir)).returncode == 0
    target = tmp_path / "out.csv"
    args = ["export", "--query", query, *NO_TIME_LIMIT]
    args += ["-o", str(target)] if to_file else []
    proc = subprocess.Popen(
        archive_command(db, *args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=clean_env(),
        start_new_session=True,
        # A shell's background jobs ignore SIGINT; a terminal's foreground job does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        # While the query runs: a Ctrl-C that came while Python was still starting would
        # meet SIGINT's default action, not archive's handling of it.
        wait_until_querying(proc, db)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=HANG_SECONDS)
    finally:
        kill_group(proc)
    text = stderr.decode()
    assert proc.returncode == 130, text
    assert text.strip() == "interrupted", text
    assert not target.exists()
    assert list(tmp_path.glob(".archive-*")) == []
