"""A user's SQL cannot outrun its time limit or fill the memory, however expensive
its single steps are (issue 19, item 2): in `archive sql` (both engines) and in
`archive serve`, each such query is stopped with one line and a documented status.

The queries below each take many seconds or gigabytes when nothing stops them
(the first ran 55 s and exited 0 before the watchdog). No assertion is about
speed: the answer itself (an error naming the limit) shows the limit stopped the
query, and the timeouts only turn a hang into a failure.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.parse

import pytest
from conftest import DATA, HANG_SECONDS, imported
from live_server import get, live_server

from archive.errors import EXIT_STATUSES, QueryLimitError

# Issue 19's reproduction: twenty steps that each build a string of 200 MB.
EXPENSIVE_STEPS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<20)"
    " SELECT x, length(hex(printf('%.*c', 200000000+x, 'x'))) FROM c"
)
# The same under the value limits (256 MiB; 32 MiB in serve): only the
# watchdog can stop these, each step being shorter than any limit but slow.
SLOW_STEPS = EXPENSIVE_STEPS.replace("200000000", "100000000")
SERVE_SLOW_STEPS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<2000)"
    " SELECT x, length(hex(printf('%.*c', 15000000+x, 'x'))) FROM c"
)
# One row, six values of 200 MB each: more than SQLite may hold at once.
WIDE = "SELECT " + ", ".join(f"printf('%.*c', 200000000, 'x') AS c{i}" for i in range(6))
HUGE_VALUE = "select printf('%.*c',300000000,'x')"

LIMIT_STATUS = QueryLimitError.exit_code


def archive_sql(db: str, sql: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`archive --db DB sql SQL ARGS` as a real process: its memory is its own."""
    return subprocess.run(
        [sys.executable, "-m", "archive", "--db", db, "sql", sql, *args],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a query stopped at a limit (rows read before it
    was stopped may be on stdout)."""
    assert result.returncode == LIMIT_STATUS, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


def test_the_limit_status_is_documented():
    assert LIMIT_STATUS in dict(EXIT_STATUSES)


@pytest.fixture
def sample_db(archive) -> str:
    return str(imported(archive, DATA).path)


def test_expensive_steps_are_stopped(sample_db):
    line = one_line(archive_sql(sample_db, EXPENSIVE_STEPS, "--timeout", "2"))
    # The 400 MB hex() is past the value limit; were it not, the watchdog would
    # stop it at 2 s: either is a limit, said in one line.
    assert line.startswith("error: query "), line
    assert "longer than" in line


def test_steps_under_the_value_limit_are_interrupted_at_the_deadline(sample_db):
    line = one_line(archive_sql(sample_db, SLOW_STEPS, "--timeout", "1"))
    assert line == "error: query interrupted: it ran longer than 1 s (--timeout)"


def test_a_wide_select_is_stopped_at_the_memory_limit(sample_db):
    line = one_line(archive_sql(sample_db, WIDE, "--timeout", "600"))
    assert (
        line
        == "error: query stopped: it needed more than 1024 MiB of memory (the limit for SQLite)"
    )


def test_the_next_query_works_after_a_stopped_one(sample_db):
    one_line(archive_sql(sample_db, SLOW_STEPS, "--timeout", "1"))
    result = archive_sql(sample_db, "SELECT count(*) AS n FROM article", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert '"n"' in result.stdout


def test_postgresql_stops_expensive_steps_at_its_timeout(pg_archive):
    imported(pg_archive, DATA)
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<20) SELECT x,"
        " length(encode(convert_to(repeat('x', 200000000+x), 'UTF8'), 'hex')) FROM c"
    )
    line = one_line(archive_sql(pg_archive.url, sql, "--timeout", "2", "--allow-superuser"))
    assert line == "error: query interrupted: it ran longer than 2 s (--timeout)"


# --- archive serve ------------------------------------------------------------------


def _sql_url(base: str, sql: str) -> str:
    return f"{base}archive.json?sql={urllib.parse.quote(sql)}"


def test_serve_stops_expensive_queries_and_answers_other_pages(archive, tmp_path):
    db = tmp_path / "archive.db"
    archive.path = db
    imported(archive, DATA)
    log: list[str] = []
    bad = [EXPENSIVE_STEPS, SERVE_SLOW_STEPS, HUGE_VALUE]
    answers: dict[str, tuple[int, str]] = {}
    with live_server(db, log=log) as url:

        def ask(sql: str) -> None:
            answers[sql] = get(_sql_url(url, sql))

        threads = [threading.Thread(target=ask, args=(sql,)) for sql in bad]
        for thread in threads:
            thread.start()
        # Another database page answers while the three run (or once they are
        # stopped): the urlopen timeout in get() turns a held server into a failure.
        status, page = get(f"{url}archive/topic.json?_shape=array")
        for thread in threads:
            thread.join(HANG_SECONDS)
    assert status == 200, page
    assert '"name"' in page
    assert answers[EXPENSIVE_STEPS][0] == 400, answers[EXPENSIVE_STEPS]
    assert "SQL query took too long" in answers[SERVE_SLOW_STEPS][1]
    assert answers[SERVE_SLOW_STEPS][0] == 400
    # printf() past the value limit gives NULL (SQLite's rule), or the watchdog
    # stops it first on a busy machine: never a 300 MB answer.
    status, body = answers[HUGE_VALUE]
    assert (status, '"rows": [[null]]' in body) == (200, True) or status == 400, body[:500]
    assert len(body) < 10_000
    # The server's own log: one line per refused query, no traceback.
    refused = sum(status == 400 for status, _ in answers.values())
    assert [line.split(":")[0].split(" ")[0] for line in log] == ["refused"] * refused, log
    assert not any("Traceback" in line for line in log), "\n".join(log)


def test_serve_logs_a_rejected_sql_in_one_line(archive, tmp_path):
    db = tmp_path / "archive.db"
    archive.path = db
    imported(archive, DATA)
    log: list[str] = []
    with live_server(db, log=log) as url:
        status, _ = get(f"{url}archive?sql={urllib.parse.quote('insert into topic values (1)')}")
        assert status == 400
        status, _ = get(f"{url}archive?sql={urllib.parse.quote('select nosuch from nowhere')}")
        assert status == 400
    assert log == [
        "refused GET /archive?sql=insert%20into%20topic%20values%20%281%29: 400 Invalid SQL:"
        " Statement must be a SELECT",
        "refused query: no such table: nowhere: select nosuch from nowhere",
    ]
