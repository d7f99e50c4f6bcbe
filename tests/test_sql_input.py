"""How `archive sql` and `archive export --query` take SQL: as an argument (also one
that starts with a `--` comment), from stdin (`-`), from a file (`-f FILE`,
`--query-file FILE`); and the SQL they refuse before running it (a `/*` comment
never closed, nothing but comments)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, Archive, PostgresArchive, imported

USAGE = 2  # archive/errors.py: a usage error


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return imported(Archive(tmp_path_factory.mktemp("sql") / "a.db"), DATA)


def _lines(result: object) -> list[str]:
    return result.output.splitlines()  # type: ignore[attr-defined]


def test_sql_that_starts_with_a_comment_is_sql_not_an_option(news: Archive) -> None:
    result = news.run("sql", "-- how many\nSELECT count(*) AS n FROM topic", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert _lines(result) == ["n", "8"]


def test_options_around_a_commented_statement_keep_their_values(news: Archive) -> None:
    result = news.run(
        "sql", "-p", "t", "AI", "--format", "csv", "-- by name\nSELECT :t AS topic", "--limit", "1"
    )
    assert result.exit_code == 0, result.output
    assert _lines(result) == ["topic", "AI"]


def test_sql_from_stdin_and_from_a_file(news: Archive, tmp_path: Path) -> None:
    query = "/* the topics */\n-- one per line\nSELECT name FROM topic ORDER BY name LIMIT 2\n"
    from_stdin = news.run("sql", "-", "--format", "csv", input=query)
    (tmp_path / "q.sql").write_text(query)
    from_file = news.run("sql", "-f", str(tmp_path / "q.sql"), "--format", "csv")
    stdin_file = news.run("sql", "--file", "-", "--format", "csv", input=query)
    for result in (from_stdin, from_file, stdin_file):
        assert result.exit_code == 0, result.output
        assert _lines(result) == ["name", "AI", "Climate"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 /* forgot to close it", "line 1 of the SQL: a /* comment is never closed"),
        ("SELECT 1,\n2 /* a\n b", "line 2 of the SQL: a /* comment is never closed"),
        ("-- nothing but a comment", "the SQL is only comments"),
        ("/* only */ ;", "the SQL is only comments"),
    ],
)
def test_sql_that_cannot_be_meant_is_refused_as_a_usage_error(
    news: Archive, sql: str, message: str
) -> None:
    for command in (["sql", sql], ["export", "--query", sql]):
        result = news.run(*command)
        assert result.exit_code == USAGE, result.output
        assert result.output.startswith(f"error: {message}")
        assert len(_lines(result)) == 1


def test_comment_markers_inside_strings_and_line_comments_are_text(news: Archive) -> None:
    sql = "SELECT '/*' AS a, \"name\" AS b FROM topic -- /* not a comment start\nORDER BY name LIMIT 1"
    result = news.run("sql", sql, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert _lines(result) == ["a,b", "/*,AI"]


def test_an_unclosed_comment_in_a_file_names_the_file_and_line(
    news: Archive, tmp_path: Path
) -> None:
    (tmp_path / "cut.sql").write_text("SELECT name\nFROM topic\n/* the rest was lost")
    for command in (["sql", "-f"], ["export", "--query-file"]):
        result = news.run(*command, str(tmp_path / "cut.sql"))
        assert result.exit_code == USAGE
        assert (
            result.output
            == f"error: {tmp_path / 'cut.sql'}, line 3: a /* comment is never closed: end it with */\n"
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give SQL or -f FILE"),
        (["SELECT 1", "-f", "q.sql"], "give SQL or -f FILE"),
        (["-f", "missing.sql"], "missing.sql: no such file"),
    ],
)
def test_sql_given_twice_or_not_at_all_is_a_usage_error(
    news: Archive, args: list[str], message: str
) -> None:
    result = news.run("sql", *args)
    assert result.exit_code == USAGE
    assert message in result.output
    assert len(_lines(result)) == 1


def test_export_takes_a_query_from_stdin_a_file_or_a_commented_argument(
    news: Archive, tmp_path: Path
) -> None:
    query = "-- the first topic\nSELECT name FROM topic ORDER BY name LIMIT 1"
    (tmp_path / "q.sql").write_text(query)
    results = [
        news.run("export", "--query", query),
        news.run("export", "--query", "-", input=query),
        news.run("export", "--query-file", str(tmp_path / "q.sql")),
    ]
    for result in results:
        assert result.exit_code == 0, result.output
        assert _lines(result) == ["name", "AI"]
    both = news.run("export", "--query", query, "--query-file", str(tmp_path / "q.sql"))
    assert both.exit_code == USAGE


def test_the_installed_command_reads_sql_from_a_pipe(news: Archive) -> None:
    """The real process, its real stdin and exit status."""
    done = subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(news.path), "sql", "-", "--format", "csv"],
        input="-- count\nSELECT count(*) AS n FROM provider\n",
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout.split()) == (0, ["n", "13"])
    refused = subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(news.path), "sql", "SELECT 1 /* x"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == USAGE
    assert refused.stderr.count("\n") == 1
    assert "Traceback" not in refused.stderr


def test_postgresql_takes_commented_sql_and_refuses_an_unclosed_comment(
    pg_archive: PostgresArchive,
) -> None:
    """PostgreSQL would also refuse the open comment, but as an SQL error (status 1)
    after connecting; it is refused the same way on both engines, before."""
    imported(pg_archive, DATA / "example_05_minimal-weburl-only.md")
    su = "--allow-superuser"  # the test server's role; the read-only rules are not this test's
    result = pg_archive.run("sql", "-", su, "--format", "csv", input="-- n\nSELECT 1 AS n /* */")
    assert (result.exit_code, _lines(result)) == (0, ["n", "1"])
    for command in (["sql", "SELECT 1 /* x"], ["export", "--query", "SELECT 1 /* x"]):
        refused = pg_archive.run(*command, su)
        assert refused.exit_code == USAGE
        assert refused.output == (
            "error: line 1 of the SQL: a /* comment is never closed: end it with */\n"
        )
    dollar = pg_archive.run("sql", "SELECT $$ /* $$ AS s", su, "--format", "csv")
    assert (dollar.exit_code, _lines(dollar)) == (0, ["s", " /* "])
