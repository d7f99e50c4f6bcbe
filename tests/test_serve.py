"""`archive serve`: Datasette on the archive, read-only, with metadata generated from
the schema, canned queries that answer as the CLI does, search, facets and a chart.

Most tests use Datasette's own ASGI client (no port); tests/test_serve_browser.py
drives a real browser against a live server.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from conftest import Archive, one_error_line
from live_server import AS_ORDINARY_USER, get, live_server

from archive.serve import metadata as metadata_module
from archive.serve import server
from archive.serve.chart import bar_chart
from archive.serve.queries import CANNED_QUERIES
from archive.store import models

NEWSWEEK_URL = "https://www.newsweek.com/black-lives-matter-activist-hunted-facial-recognition-technology-1525335"


def fetch(datasette, *paths: str) -> list:
    """GET each path through Datasette's ASGI client, in one event loop."""

    async def run() -> list:
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(run())


def fetch_json(datasette, path: str):
    (response,) = fetch(datasette, path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def cli_json(archive: Archive, *args: str) -> list[dict]:
    result = archive.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def served(sample: Archive):
    """The sample archive in Datasette, as `archive serve` sets it up."""
    datasette = server.datasette_for(sample.path)
    yield datasette
    for database in datasette.databases.values():
        database.close()


# --- metadata --------------------------------------------------------------------


def test_descriptions_come_from_the_models_and_views(monkeypatch):
    """Changing a description in models.py changes what Datasette shows: the text is
    not written a second time anywhere."""
    article = models.SQLModel.metadata.tables["article"]
    monkeypatch.setitem(article.info, "description", "TABLE-MARKER")
    monkeypatch.setitem(article.c.secured.info, "description", "COLUMN-MARKER")
    monkeypatch.setitem(
        models.VIEWS, "topic_article", models.View("VIEW-MARKER", {"topic": "VIEW-COLUMN-MARKER"})
    )
    tables = metadata_module.metadata("x")["databases"]["x"]["tables"]
    assert tables["article"]["description"] == "TABLE-MARKER"
    assert tables["article"]["columns"]["secured"] == "COLUMN-MARKER"
    assert tables["topic_article"]["description"] == "VIEW-MARKER"
    assert tables["topic_article"]["columns"] == {"topic": "VIEW-COLUMN-MARKER"}


def test_metadata_describes_every_table_and_view():
    tables = metadata_module.metadata("x")["databases"]["x"]["tables"]
    assert set(tables) == set(models.TABLE_NAMES) | set(models.VIEWS)
    for name in models.TABLE_NAMES:
        table = models.SQLModel.metadata.tables[name]
        assert tables[name]["description"] == table.info["description"]
        described = {c.name for c in table.columns if "description" in c.info}
        assert set(tables[name].get("columns", {})) == described
        for column in tables[name].get("sortable_columns", []):
            assert column in table.columns, (name, column)
    assert tables["source_file"]["label_column"] == "path"
    assert tables["provider"]["label_column"] == "name"
    assert tables["topic"]["label_column"] == "name"


def test_datasette_shows_descriptions_and_labels(served):
    """What the metadata says reaches the pages: a column's description, and a
    foreign key shown with the row's label (a provider's name, a file's path)."""
    page, article = fetch(served, "/test/source_file", "/test/article.json?_labels=on&_size=1")
    assert page.status_code == 200
    description = models.SQLModel.metadata.tables["source_file"].c.sha256.info["description"]
    assert description in html.unescape(page.text)
    row = article.json()["rows"][0]
    provider = sqlite3.connect(served.databases["test"].path).execute(
        "SELECT p.name FROM article a JOIN provider p ON p.id = a.provider_id WHERE a.id = ?",
        (row["id"],),
    )
    assert row["provider_id"]["label"] == provider.fetchone()[0]
    assert row["source_file_id"]["label"].endswith(".md") or row["source_file_id"][
        "label"
    ].endswith(".txt")


# --- the home page and canned queries ------------------------------------------------


def test_home_page_links_every_question_and_the_chart(served):
    (home,) = fetch(served, "/")
    links = re.findall(r'<a href="([^"]+)" class="archive-question"', home.text)
    linked = {link.split("?")[0].rsplit("/", 1)[-1] for link in links}
    assert linked == {q.name for q in CANNED_QUERIES} | {"timeline"}
    for response in fetch(served, *(link.replace("&amp;", "&") for link in links)):
        assert response.status_code == 200, response.url


# Each canned query against the command it stands for: (query, parameters, command
# line, columns compared). Names are written the way a user might type them.
AGREEMENT = [
    ("providers_for_topic", {"topic": "ai"}, ["providers", "--topic", "AI"],
     ["name", "domain", "articles", "share"]),
    ("providers_for_topic", {"topic": " computer   VISION "},
     ["providers", "--topic", "Computer Vision"], ["name", "domain", "articles", "share"]),
    # Full-width letters: the same topic by NFKC, which SQLite's lower() does not know.
    ("providers_for_topic", {"topic": "ＡＩ"}, ["providers", "--topic", "AI"],
     ["name", "domain", "articles", "share"]),
    ("providers_for_topic_with_related", {"topic": "Computer Vision"},
     ["providers", "--topic", "Computer Vision", "--include-related"],
     ["name", "domain", "articles", "share"]),
    ("providers_for_topic_with_related", {"topic": "AI"},
     ["providers", "--topic", "AI", "--include-related"], ["name", "domain", "articles", "share"]),
    ("topics_for_provider", {"provider": "WWW.TheGuardian.COM"},
     ["topics", "--provider", "theguardian.com"], ["name", "articles"]),
    ("topics_for_provider", {"provider": "https://www.nypost.com/"},
     ["topics", "--provider", "nypost.com"], ["name", "articles"]),
    ("timeline_for_topic", {"topic": "ai"}, ["timeline", "--topic", "AI", "--by", "month"],
     ["period", "articles", "all_articles", "share"]),
    ("cooccurring_topics", {"topic": "elections"}, ["cooccur", "--topic", "Elections"],
     ["name", "articles", "share"]),
    ("cooccurring_topics", {"topic": "AI"}, ["cooccur", "--topic", "AI"],
     ["name", "articles", "share"]),
    ("related_articles", {"url": NEWSWEEK_URL.replace("https://www.", "http://")},
     ["related", NEWSWEEK_URL], ["direction", "position", "title", "provider", "url"]),
    ("article_history", {"url": NEWSWEEK_URL.replace("https://www.", "http://")},
     ["history", NEWSWEEK_URL], ["time", "status", "path", "commit"]),
]  # fmt: skip


@pytest.mark.parametrize(("query", "params", "command", "columns"), AGREEMENT)
def test_canned_queries_answer_as_the_cli(served, sample, query, params, command, columns):
    expected = cli_json(sample, *command)
    assert expected, "a comparison with no rows proves nothing"
    found = fetch_json(served, f"/test/{query}.json?_shape=array&" + _query_string(params))
    renamed = [{("period" if k == "month" else k): v for k, v in row.items()} for row in found]

    def pick(rows: list[dict]) -> list[tuple]:
        return [
            tuple(round(r[c], 4) if isinstance(r[c], float) else r[c] for c in columns)
            for r in rows
        ]

    assert pick(renamed) == pick(expected)


# The canned queries whose command answers the same question: the canned SQL is the
# command's own statement (written by the same builder), so every column of every
# row must be equal, in the same order. (query, parameters, command line)
SAME_QUESTION = [
    ("providers_for_topic", {"topic": "AI"}, ["providers", "--topic", "AI"]),
    ("providers_for_topic_with_related", {"topic": "AI"},
     ["providers", "--topic", "AI", "--include-related"]),
    ("topics_for_provider", {"provider": "theguardian.com"},
     ["topics", "--provider", "theguardian.com"]),
    ("timeline_for_topic", {"topic": "AI"}, ["timeline", "--topic", "AI", "--by", "month"]),
    ("cooccurring_topics", {"topic": "AI"}, ["cooccur", "--topic", "AI"]),
    ("related_articles", {"url": NEWSWEEK_URL}, ["related", NEWSWEEK_URL]),
    ("providers_for_topic_by_story", {"topic": "AI"},
     ["providers", "--topic", "AI", "--by-story"]),
]  # fmt: skip


def as_the_cli_prints(rows: list[dict]) -> list[dict]:
    """Datasette's rows as the CLI's JSON has them: SQLite's 0/1 of a boolean column
    as false/true, a timeline's `month` as `period`."""
    return [
        {
            ("period" if k == "month" else k): (bool(v) if k in ("is_stub", "is_first") else v)
            for k, v in row.items()
        }
        for row in rows
    ]


@pytest.mark.parametrize(("query", "params", "command"), SAME_QUESTION)
def test_canned_queries_give_the_commands_rows_in_full(served, sample, query, params, command):
    expected = cli_json(sample, *command)
    assert len(expected) > 1, "a comparison of less than two rows proves little of the order"
    found = fetch_json(served, f"/test/{query}.json?_shape=array&" + _query_string(params))
    assert as_the_cli_prints(found) == expected


def _query_string(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_an_unknown_topic_or_a_malformed_url_is_no_rows_not_an_error(served):
    for path in (
        "/test/providers_for_topic.json?_shape=array&topic=nothing+like+this",
        "/test/related_articles.json?_shape=array&url=not+a+url",
        "/test/related_articles.json?_shape=array&url=",
        "/test/article_history.json?_shape=array&url=not+a+url",
    ):
        assert fetch_json(served, path) == []


def test_sqlite_lower_is_not_the_topic_identity():
    """Why the canned queries call topic_key() rather than lower(): the sample's
    full-width spelling matches only by NFKC (the test above finds it)."""
    connection = sqlite3.connect(":memory:")
    assert connection.execute("SELECT lower('ＡＩ')").fetchone()[0] != "ai"


# --- search and facets --------------------------------------------------------------


@pytest.mark.parametrize("table", ["article", "article_summary"])
def test_search_finds_what_archive_search_finds(served, sample, table):
    expected = {row["url"] for row in cli_json(sample, "search", "police", "--limit", "1000")}
    assert expected
    found = fetch_json(served, f"/test/{table}.json?_search=police&_shape=array&_size=max")
    assert {row["url"] for row in found} == expected


def test_topic_facet_counts_topics(served, sample):
    expected = {row["name"]: row["articles"] for row in cli_json(sample, "topics")}
    page = fetch_json(served, "/test/topic_article.json?_size=0")
    counts = {item["value"]: item["count"] for item in page["facet_results"]["topic"]["results"]}
    assert counts == expected


def test_topics_array_facet_on_article_summary_counts_topics(served, sample):
    """article_summary.topics is a JSON array: `_facet_array=topics` counts each topic
    once per article, as `archive topics` does."""
    expected = {row["name"]: row["articles"] for row in cli_json(sample, "topics")}
    page = fetch_json(served, "/test/article_summary.json?_facet_array=topics&_size=0")
    results = page["facet_results"]["topics"]["results"]
    assert {item["value"]: item["count"] for item in results} == expected


def test_facet_suggestions_are_off(served):
    """On a large archive they cost every page of a wide view a second or more."""
    page = fetch_json(served, "/test/article_summary.json?_extra=suggested_facets&_size=1")
    assert page.get("suggested_facets", []) == []
    (html_page,) = fetch(served, "/test/article_summary")
    assert "Suggested facets" not in html_page.text


# --- the chart ----------------------------------------------------------------------


def test_timeline_page_draws_a_bar_per_month(served, sample):
    expected = cli_json(sample, "timeline", "--topic", "AI", "--by", "month")
    (page,) = fetch(served, "/test/-/timeline?topic=ai")
    assert page.status_code == 200
    bars = re.findall(r'<rect class="bar"[^>]*height="([\d.]+)"[^>]*data-label="([^"]+)"'
                      r' data-value="(\d+)"', page.text)  # fmt: skip
    assert [(label, int(value)) for _, label, value in bars] == [
        (row["period"], row["articles"]) for row in expected
    ]
    for height, _, value in bars:
        assert (float(height) > 0) == (int(value) > 0)
    assert "<h1>Timeline: AI</h1>" in page.text  # the topic as first spelled


def test_timeline_page_without_a_topic_charts_the_whole_archive(served, sample):
    expected = cli_json(sample, "timeline", "--by", "month")
    blank, missing = fetch(served, "/test/-/timeline", "/nope/-/timeline")
    assert blank.status_code == 200 and "<h1>Timeline: all articles</h1>" in blank.text
    bars = re.findall(r'<rect class="bar"[^>]*data-label="([^"]+)" data-value="(\d+)"', blank.text)
    assert [(label, int(value)) for label, value in bars] == [
        (row["period"], row["articles"]) for row in expected
    ]
    assert missing.status_code == 404


def test_an_unknown_topic_gets_did_you_mean(served):
    (unknown, nothing) = fetch(
        served, "/test/-/timeline?topic=Privcy", "/test/-/timeline?topic=zzzz"
    )
    assert unknown.status_code == 200
    assert "No topic “Privcy” in this archive; did you mean" in unknown.text
    assert re.search(r'class="archive-suggestion" href="[^"]*topic=Privacy">Privacy</a>',
                     unknown.text)  # fmt: skip
    assert 'class="bar"' not in unknown.text
    assert "No topic “zzzz”" in nothing.text and "archive-suggestion" not in nothing.text


def test_timeline_page_compares_topics(served, sample):
    expected = cli_json(sample, "timeline", "--topic", "AI", "--topic", "Privacy", "--compare")
    (page,) = fetch(served, "/test/-/timeline?topic=ai&topic=privacy")
    assert "<h1>Timeline: AI, Privacy</h1>" in page.text
    bars = re.findall(r'<rect class="bar series-\d"[^>]*data-series="([^"]+)" data-label="([^"]+)"'
                      r' data-value="(\d+)"', page.text)  # fmt: skip
    assert bars == [
        (topic, row["period"], str(row[topic])) for row in expected for topic in ("AI", "Privacy")
    ]
    # The table has each month's shares, empty for a month without articles.
    cells = re.findall(r"<tr>((?:<td>[^<]*</td>)+)</tr>", page.text)
    table = [re.findall(r"<td>([^<]*)</td>", row) for row in cells]
    assert table == [
        [row["period"], str(row["all_articles"]), str(row["AI"]), _shown(row["AI share"]),
         str(row["Privacy"]), _shown(row["Privacy share"])]
        for row in expected
    ]  # fmt: skip


def _shown(share) -> str:
    return "" if share is None else str(share)


def test_bar_chart_heights_are_proportional_and_labels_escaped():
    svg = bar_chart([("a<b", 2), ("c", 0), ("d", 4)])
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 0 and heights[2] == pytest.approx(2 * heights[0]) and heights[0] > 0
    assert "a<b" not in svg and "a&lt;b" in svg
    assert 'class="bar"' not in bar_chart([])


# --- read-only -------------------------------------------------------------------------


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_serving_never_writes_the_archive(sample):
    before = _fingerprint(sample.path)
    datasette = server.datasette_for(sample.path)
    pages = [
        "/", "/test", "/test/article", "/test/article_summary?_search=police",
        "/test/providers_for_topic?topic=AI", "/test/-/timeline?topic=AI",
        "/test.json?sql=" + "DELETE+FROM+article",
        "/test.json?sql=" + "UPDATE+article+SET+title%3D%27x%27",
    ]  # fmt: skip
    responses = fetch(datasette, *pages)
    assert [r.status_code for r in responses[:-2]] == [200] * (len(pages) - 2)
    assert all(r.status_code == 400 for r in responses[-2:])  # Datasette's SQL check

    async def write() -> None:
        await datasette.get_database("test").execute_write("DELETE FROM article")

    # Datasette's one way to write, open to any plugin: refused by the database itself.
    with pytest.raises(PermissionError):
        asyncio.run(write())
    for database in datasette.databases.values():
        database.close()
    assert _fingerprint(sample.path) == before
    assert sample.count("article") > 0


def test_the_connections_are_read_only_at_the_sqlite_level(sample):
    """Even past Datasette's checks, SQLite refuses to write (mode=ro)."""
    datasette = server.datasette_for(sample.path)

    async def write_through_a_read_connection() -> None:
        await datasette.get_database("test").execute_fn(
            lambda conn: conn.execute("DELETE FROM article")
        )

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(write_through_a_read_connection())
    for database in datasette.databases.values():
        database.close()
    assert sample.count("article") > 0


def test_a_read_only_folder_is_served_immutable(sample, tmp_path):
    """A frozen archive (a read-only file in a read-only folder): nobody can change it,
    so serve reads it immutable (mode=ro could not create -shm there), and it answers."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    try:
        db = folder / "ro.db"
        db.write_bytes(sample.path.read_bytes())
        os.chmod(db, 0o444)
        os.chmod(folder, 0o555)
        with live_server(db, wrapper=AS_ORDINARY_USER) as url:
            status, body = get(url + "ro/article.json?_shape=array&_col=title")
            assert status == 200, body
            assert len(json.loads(body)) == sample.count("article")
            status, body = get(url + "ro/providers_for_topic.json?_shape=array&topic=AI")
            assert status == 200 and json.loads(body), body
        assert sorted(p.name for p in folder.iterdir()) == ["ro.db"]
    finally:
        os.chmod(folder, 0o755)


def test_opens_immutable_only_a_frozen_archive(tmp_path, monkeypatch):
    """immutable=1 takes no locks, so only for a file nobody can change (location.open_mode)."""
    from archive.store.location import UnsafeRead

    db = tmp_path / "a.db"
    db.write_bytes(b"")
    assert not server.opens_immutable(db)
    db.chmod(0o444)  # no write permission bit: frozen
    assert server.opens_immutable(db)
    assert "immutable=1" in server._uri(db)
    db.chmod(0o644)
    # Read-only to this process, but its owner may import: refused, never immutable.
    monkeypatch.setattr(os, "access", lambda path, mode: not mode & os.W_OK)
    with pytest.raises(UnsafeRead, match=r"safely: its folder .* is read-only to you"):
        server.opens_immutable(db)


def test_live_server_answers_and_leaves_no_files_behind(sample):
    folder = sample.path.parent
    before = sorted(p.name for p in folder.iterdir())
    with live_server(sample.path) as url:
        status, body = get(url + "test/providers_for_topic.json?_shape=array&topic=AI")
        assert status == 200
        assert [r["name"] for r in json.loads(body)] == [
            r["name"] for r in cli_json(sample, "providers", "--topic", "AI")
        ]
    assert sorted(p.name for p in folder.iterdir()) == before


# --- the command's errors and --write-metadata ---------------------------------------


def test_open_opens_the_home_page_in_the_browser(sample, tmp_path):
    """--open hands the URL to the user's browser ($BROWSER here: a command that
    writes down what it was given)."""
    opened = tmp_path / "opened"
    browser = f"{shlex.quote(sys.executable)} -c 'import sys; open(sys.argv[2], \"w\").write(sys.argv[1])' %s {opened}"
    with live_server(sample.path, "--open", env={"BROWSER": browser}) as url:
        for _ in range(600):  # webbrowser runs the command in the background
            if opened.exists() and opened.read_text():
                break
            time.sleep(0.1)
    assert opened.read_text() == url


def test_an_archive_at_an_older_schema_is_refused_with_exit_3(sample):
    assert sample.run("db", "downgrade", "-1").exit_code == 0
    line = one_error_line(sample.run("serve", "--port", "0"), exit_code=3)
    assert "archive db upgrade" in line


def test_no_archive_is_one_line(archive):
    line = one_error_line(archive.run("serve"), exit_code=5)
    assert "no archive at" in line


def test_a_port_in_use_is_one_line(sample):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        line = one_error_line(sample.run("serve", "--port", str(port)))
    finally:
        taken.close()
    assert line == f"error: cannot listen on 127.0.0.1:{port}: the port is in use"


def test_an_unknown_host_is_one_line(sample):
    line = one_error_line(sample.run("serve", "--host", "no-such-host.invalid", "--port", "0"))
    assert line.startswith("error: cannot listen on no-such-host.invalid:0")


def test_write_metadata_writes_what_serve_uses(sample, tmp_path):
    target = tmp_path / "metadata.json"
    result = sample.run("serve", "--write-metadata", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == metadata_module.metadata("test")
    again = sample.run("serve", "--write-metadata", str(target))
    assert "already exists" in one_error_line(again, exit_code=6)
    assert sample.run("serve", "--write-metadata", str(target), "--force").exit_code == 0


def test_plain_datasette_with_the_written_metadata_answers_the_questions(sample, tmp_path):
    """The command line serve prints, run as is: Datasette loads the plugin from its
    entry point, so the canned queries (topic_key) and the chart work there too."""
    target = tmp_path / "metadata.json"
    result = sample.run("serve", "--write-metadata", str(target))
    command = shlex.split(result.stderr.strip().splitlines()[-1])
    assert command[:2] == ["datasette", "serve"]
    datasette = Path(sys.executable).with_name("datasette")

    def plain(path: str) -> str:
        run = subprocess.run(
            [str(datasette), *command[1:], "--get", path],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    found = json.loads(plain("/test/providers_for_topic.json?_shape=array&topic=ai"))
    assert [r["name"] for r in found] == [
        r["name"] for r in cli_json(sample, "providers", "--topic", "AI")
    ]
    assert 'class="bar"' in plain("/test/-/timeline?topic=AI")


def test_serve_needs_no_import_of_datasette_for_help():
    code = (
        "import sys\nfrom archive.cli import cli\n"
        "try:\n    cli(['serve', '--help'], prog_name='archive')\nexcept SystemExit:\n    pass\n"
        "print('datasette' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_postgresql_archive_is_one_line_not_served(tmp_path):
    """Datasette serves SQLite files only; a PostgreSQL URL is refused before any
    connection is tried."""
    archive = Archive(tmp_path / "unused.db")
    result = archive.run("--db", "postgresql://nobody@127.0.0.1:9/none", "serve")
    line = one_error_line(result, exit_code=5)
    assert line == "error: archive serve works on SQLite archives only"


# --- limits (the live server's time limit and log: tests/reliability/test_query_limits.py)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT hex(printf('%.*c', 20000000, 'x'))", "a value would be longer than 32 MiB"),
        ("SELECT zeroblob(40000000)", "a value would be longer than 32 MiB"),
    ],
)
def test_a_value_past_the_limit_is_an_sql_error(served, sql, says):
    (response,) = fetch(served, f"/test.json?sql={urllib.parse.quote(sql)}")
    assert response.status_code == 400, response.text[:500]
    assert says in response.json()["error"]


def test_a_refused_request_is_one_log_line(served, capsys):
    (response,) = fetch(served, "/test?sql=" + urllib.parse.quote("DELETE FROM article\n\x1b[31m"))
    assert response.status_code == 400
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "refused GET /test?sql=DELETE%20FROM%20article%0A%1B%5B31m: 400 Invalid SQL:"
        " Statement must be a SELECT\n"
    )
    # A message quotes what the visitor sent, decoded: its control characters are
    # escaped, and a line break cannot forge a second line.
    (response,) = fetch(served, "/test/article?_sort=x%1B%5B31m%0Arefused")
    assert response.status_code == 500  # Datasette's status for this message
    assert capsys.readouterr().err == (
        "failed GET /test/article?_sort=x%1B%5B31m%0Arefused: 500 Cannot sort table by"
        " x\\x1b[31m refused\n"
    )
