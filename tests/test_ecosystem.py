"""The archive file reads right in the tools users already like: sqlite-utils, pandas,
plain SQL in the sqlite3 module, and rows other tools write are fully seen.

Each check runs the real client on an archive made by `archive import data/`.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import DATA, Archive


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Archive:
    archive = Archive(tmp_path_factory.mktemp("ecosystem") / "archive.db")
    assert archive.run("import", str(DATA)).exit_code == 0
    return archive


def test_sqlite_utils_detects_the_search_table_and_searches(sample) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(sample.path)
    assert db["article"].detect_fts() == "article_fts"
    found = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "search", str(sample.path), "article", "facial"],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    titles = {row["title"] for row in json.loads(found.stdout)}
    expected = {
        row["title"]
        for row in json.loads(sample.run("articles", "--search", "facial", "--include-stubs",
                                         "--format", "json").stdout)
    }  # fmt: skip
    assert titles == expected and titles


def test_a_date_typed_in_sql_compares_right(sample) -> None:
    """`published_at >= '2020-08-17'` counts that day's articles, as a user expects."""
    connection = sqlite3.connect(sample.path)
    try:
        (count,) = connection.execute(
            "SELECT count(*) FROM article WHERE published_at >= '2020-08-17'"
            " AND published_at < '2020-08-18'"
        ).fetchone()
        (typed,) = connection.execute(
            "SELECT count(*) FROM article WHERE published_at >= '2020-08-17T00:00:00Z'"
            " AND published_at <= '2020-08-17T23:59:59Z'"
        ).fetchone()
    finally:
        connection.close()
    days = [
        row["published_at"][:10]
        for row in json.loads(sample.run("articles", "--include-stubs", "--format", "json").stdout)
        if row["published_at"]
    ]
    assert count == typed == days.count("2020-08-17") > 0


def test_pandas_merges_export_and_query_output_on_timestamps(sample) -> None:
    import pandas

    exported = sample.run("export", "provider_summary", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    from_sql = pandas.read_csv(io.StringIO(exported.stdout), parse_dates=["last_published"])
    from_command = pandas.read_json(
        io.StringIO(sample.run("providers", "--format", "json").stdout),
        convert_dates=["last_published"],
    )
    assert (
        str(from_sql["last_published"].dt.tz) == str(from_command["last_published"].dt.tz) == "UTC"
    )
    merged = from_sql.merge(from_command, on=["domain", "last_published"], suffixes=("", "_cmd"))
    assert len(merged) == len(from_command) > 0
    assert (merged["articles"] == merged["articles_cmd"]).all()


def test_sql_and_export_give_booleans_and_json_as_the_commands_do(sample) -> None:
    url = "https://www.lemonde.fr/pixels/article/2020/08/18/example-reconnaissance-faciale-la-cnil-reclame-un-debat_6049201_4408996.html"
    [row] = json.loads(
        sample.run(
            "sql", "SELECT published, is_stub, extra, published_at FROM article WHERE url = :u",
            "-p", "u", url, "--format", "json",
        ).stdout
    )  # fmt: skip
    shown = json.loads(sample.run("show", url, "--format", "json").stdout)
    assert row == {
        "published": shown["published"],
        "is_stub": shown["is_stub"],
        "extra": shown["extra"],
        "published_at": shown["published_at"],
    }
    assert row["extra"] == {"locale": "fr-FR"} and row["published"] is True
    csv = sample.run("sql", "SELECT extra FROM article WHERE url = :u", "-p", "u", url,
                     "--format", "csv").stdout  # fmt: skip
    assert csv.splitlines()[1] == '"{""locale"": ""fr-FR""}"'


def test_rows_another_tool_writes_are_seen_by_every_command(archive, tmp_path) -> None:
    """An article and its topic link inserted with plain SQL (as the sqlite3 shell or a
    Datasette write plugin would): the copies in article_topic are filled by triggers,
    and show finds the article by its URL as written."""
    assert archive.run("import", str(DATA)).exit_code == 0
    connection = sqlite3.connect(archive.path)
    with connection:
        provider = connection.execute(
            "SELECT id FROM provider WHERE domain = 'wired.com'"
        ).fetchone()[0]
        topic = connection.execute("SELECT id FROM topic WHERE name = 'Climate'").fetchone()[0]
        article = connection.execute(
            "INSERT INTO article (url, title, published_at, provider_id, is_stub)"
            " VALUES ('https://www.wired.com/story/hand-made', 'Hand made', '2022-03-01T10:00:00Z', ?, 0)",
            (provider,),
        ).lastrowid
        connection.execute(
            "INSERT INTO article_topic (article_id, topic_id, position) VALUES (?, ?, 0)",
            (article, topic),
        )
    found = json.loads(archive.run("providers", "--topic", "Climate", "--format", "json").stdout)
    assert {"Wired", "BBC News"} == {row["name"] for row in found}
    timeline = json.loads(
        archive.run("timeline", "--topic", "Climate", "--by", "year", "--format", "json").stdout
    )
    assert {"period": "2022", "articles": 1} in [
        {"period": row["period"], "articles": row["articles"]} for row in timeline
    ]
    # The article moves to another provider and day: its topic link follows.
    with connection:
        connection.execute(
            "UPDATE article SET provider_id = (SELECT id FROM provider WHERE domain = 'bbc.co.uk'),"
            " published_at = '2023-01-01T00:00:00Z' WHERE id = ?",
            (article,),
        )
    assert connection.execute(
        "SELECT p.domain, at.published_at FROM article_topic at JOIN provider p ON p.id = at.provider_id"
        " WHERE at.article_id = ?",
        (article,),
    ).fetchall() == [("bbc.co.uk", "2023-01-01T00:00:00Z")]
    connection.close()
    shown = archive.run("show", "https://www.wired.com/story/hand-made", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["title"] == "Hand made"


def test_every_foreign_key_is_declared_and_holds(sample) -> None:
    connection = sqlite3.connect(sample.path)
    try:
        declared = {
            (table, row[3], row[2])
            for table in ("article_topic", "source_file", "article")
            for row in connection.execute(f"PRAGMA foreign_key_list({table})")
        }
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()
    assert {
        ("article_topic", "provider_id", "provider"),
        ("article_topic", "article_id", "article"),
        ("source_file", "article_id", "article"),
        ("article", "source_file_id", "source_file"),
        ("article", "provider_id", "provider"),
    } <= declared
