"""The import rules a user relies on, each through the real CLI on real files."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from conftest import DATA, imported, record, write

from archive.cli import cli
from archive.ingest import importer


def article(archive, url: str) -> dict:
    cursor_rows = archive.rows(
        "SELECT a.*, p.name AS provider_name FROM article a"
        " LEFT JOIN provider p ON p.id = a.provider_id WHERE a.url = ?",
        url,
    )
    assert len(cursor_rows) == 1, f"expected one article with url {url}, got {cursor_rows}"
    names = [r[1] for r in archive.rows("SELECT * FROM pragma_table_info('article')")] + [
        "provider_name"
    ]
    return dict(zip(names, cursor_rows[0], strict=True))


# --- identity -------------------------------------------------------------------------


def test_sample_data_merges_what_is_the_same(archive):
    imported(archive, DATA)
    # The Newsweek article, written differently (http, no www, utm_*, fragment) in
    # example 02, completes the seed's related stub instead of making a new row.
    newsweek = archive.rows(
        "SELECT a.url, a.is_stub FROM article a JOIN provider p ON p.id = a.provider_id"
        " WHERE p.domain = 'newsweek.com'"
    )
    assert newsweek == [
        (
            "http://newsweek.com/black-lives-matter-activist-hunted-facial-recognition-technology-1525335?utm_source=twitter&utm_medium=social#comments",
            0,
        )
    ]
    # www.NYPost.com is nypost.com; the first name and domain seen are kept.
    assert archive.rows("SELECT name, domain FROM provider WHERE key = 'nypost.com'") == [
        ("New York Post", "nypost.com")
    ]
    assert archive.value("SELECT count(*) FROM provider WHERE key LIKE '%nypost%'") == 1
    # " Computer Vision " and "computer vision" are the seed's "Computer Vision".
    assert archive.rows("SELECT name FROM topic WHERE key = 'computer vision'") == [
        ("Computer Vision",)
    ]
    assert archive.value("SELECT count(*) FROM topic WHERE key LIKE '%vision%'") == 1
    # A provider without a domain is known by its name.
    assert archive.rows("SELECT key, domain FROM provider WHERE name = 'Associated Press'") == [
        ("name:associated press", None)
    ]


def test_url_variants_are_one_article_and_url_is_kept_as_written(archive, records):
    write(records, "a.md", record("https://www.example.com/story?id=7&utm_source=x", title='"A"'))
    write(
        records,
        "b.md",
        record(
            "https://example.org/other",
            related='[{webUrl: "http://EXAMPLE.com/story?fbclid=abc&id=7#top", title: "B"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.count("article") == 2
    row = article(archive, "https://www.example.com/story?id=7&utm_source=x")
    assert (row["title"], row["is_stub"]) == ("A", 0)
    assert archive.rows(
        "SELECT count(*) FROM related_link WHERE related_article_id = ?", row["id"]
    ) == [(1,)]


def test_amp_urls_identify_the_same_article(archive, records):
    write(
        records,
        "a.md",
        record(
            "https://news.example.com/a",
            ampWebUrl='"https://amp.example.net/amp/a-story"',
            title='"Own"',
        ),
    )
    write(
        records,
        "b.md",
        record(
            "https://news.example.com/b",
            related='[{webUrl: "https://amp.example.net/amp/a-story", title: "From related"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.count("article") == 2
    assert archive.rows(
        "SELECT a.title FROM related_link r JOIN article a ON a.id = r.related_article_id"
    ) == [("Own",)]


# --- order and replacement ------------------------------------------------------------


def test_files_apply_in_sorted_order_and_the_later_record_wins(archive, records):
    write(records, "b.md", record("https://example.com/x", title='"from b"'))
    write(records, "a.md", record("https://example.com/x", title='"from a"'))
    assert archive.run("import", str(records)).exit_code == 0
    assert article(archive, "https://example.com/x")["title"] == "from b"
    # The article traces to the file whose record it shows.
    assert archive.rows(
        "SELECT s.path FROM article a JOIN source_file s ON s.id = a.source_file_id"
    ) == [(str(records / "b.md"),)]


def test_changed_file_replaces_fields_topics_images_and_related(archive, records):
    path = write(
        records,
        "r.md",
        record(
            "https://example.com/r",
            title='"v1"',
            excerpt='"old excerpt"',
            topics="[One, Two]",
            images='[{url: "https://img.example.com/1.jpg"}]',
            related='[{webUrl: "https://example.com/gone", title: "Gone"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    write(
        records,
        "r.md",
        record(
            "https://example.com/r",
            title='"v2"',
            topics="[Two, Three]",
            images='[{url: "https://img.example.com/2.jpg"}]',
            related='[{webUrl: "https://example.com/new", title: "New"}]',
        ),
    )
    result = archive.run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 seen, 0 new, 1 updated, 0 unchanged, 0 rejected" in result.output
    row = article(archive, "https://example.com/r")
    assert (row["title"], row["excerpt"]) == ("v2", None)
    assert archive.rows(
        "SELECT t.name FROM article_topic at JOIN topic t ON t.id = at.topic_id"
        " WHERE at.article_id = ? ORDER BY at.position",
        row["id"],
    ) == [("Two",), ("Three",)]
    assert archive.rows(
        "SELECT i.url FROM article_image ai JOIN image i ON i.id = ai.image_id WHERE ai.article_id = ?",
        row["id"],
    ) == [("https://img.example.com/2.jpg",)]
    assert archive.rows(
        "SELECT a.url FROM related_link r JOIN article a ON a.id = r.related_article_id"
        " WHERE r.article_id = ?",
        row["id"],
    ) == [("https://example.com/new",)]
    # The stub only the old version named is gone; no article is duplicated.
    assert archive.rows("SELECT url FROM article ORDER BY url") == [
        ("https://example.com/new",),
        ("https://example.com/r",),
    ]


def test_a_copy_under_another_path_is_kept_and_counted_as_a_copy(archive, records):
    text = record("https://example.com/copy", title='"Copy"')
    write(records, "one.md", text)
    write(records, "sub/two.md", text)
    result = archive.run("import", str(records))
    assert "2 seen, 2 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert "copies: 1 new file has the bytes of an earlier file" in result.output
    assert "merged" not in result.output  # a copy is reported once, as a copy
    assert archive.rows("SELECT rel_path, status FROM source_file ORDER BY id") == [
        ("one.md", "new"),
        ("sub/two.md", "copy"),
    ]
    again = archive.run("import", str(records))
    assert "2 seen, 0 new, 0 updated, 2 unchanged, 0 rejected" in again.output


def test_a_copy_in_a_later_chunk_of_the_same_transaction_is_a_copy(archive, records, monkeypatch):
    # One file per chunk, one transaction for all: the copy is checked while the
    # original is written but not yet committed.
    monkeypatch.setattr(importer, "BATCH_FILES", 1)
    monkeypatch.setattr(importer, "COMMIT_FILES", 100)
    monkeypatch.setattr(importer, "COMMIT_SECONDS", 600)
    text = record("https://example.com/copy", title='"Copy"')
    write(records, "a.md", text)
    write(records, "b.md", record("https://example.com/other"))
    write(records, "c.md", record("https://example.com/more"))
    write(records, "d.md", text)
    result = archive.run("import", "--workers", "0", str(records))
    assert "4 seen, 4 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert archive.rows("SELECT rel_path FROM source_file WHERE status = 'copy'") == [("d.md",)]


def test_the_record_imported_last_is_shown_even_when_it_is_a_copy(archive, records):
    write(records, "a.md", record("https://example.com/x", title='"v1"'))
    write(records, "b.md", record("https://example.com/x", title='"v2"'))
    write(records, "c.md", record("https://example.com/x", title='"v1"'))
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT title FROM article") == [("v1",)]
    assert archive.count("source_file") == 3


def test_two_rejected_files_with_identical_bytes_are_both_reported(archive, records):
    write(records, "bad1.md", "---\ntitle: no address\n---\n")
    write(records, "bad2.md", "---\ntitle: no address\n---\n")
    result = archive.run("import", str(records))
    assert "2 seen, 0 new, 0 updated, 0 unchanged, 2 rejected" in result.output
    assert "bad1.md" in result.output and "bad2.md" in result.output


def test_same_relative_paths_in_two_folders_are_two_files(archive, tmp_path):
    for name, title in (("one", "A"), ("two", "B")):
        write(tmp_path / name, "x.md", record(f"https://example.com/{name}", title=title))
    result = archive.run("import", str(tmp_path / "one"), str(tmp_path / "two"))
    assert "2 seen, 2 new" in result.output
    assert archive.rows(
        "SELECT c.name, s.rel_path FROM source_file s JOIN collection c"
        " ON c.id = s.collection_id ORDER BY s.id"
    ) == [("one", "x.md"), ("two", "x.md")]


# --- related entries ------------------------------------------------------------------


def test_related_entry_never_overwrites_the_articles_own_record(archive, records):
    write(records, "a.md", record("https://example.com/own", title='"Own title"', quality="70"))
    write(
        records,
        "b.md",
        record(
            "https://example.com/b",
            related='[{webUrl: "https://example.com/own", title: "Other title", quality: 10,'
            ' excerpt: "Related excerpt"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    row = article(archive, "https://example.com/own")
    assert (row["title"], row["quality"], row["excerpt"], row["is_stub"]) == (
        "Own title",
        70,
        None,
        0,
    )


@pytest.mark.parametrize("separately", [False, True], ids=["one-import", "two-imports"])
def test_first_related_entry_gives_fields_later_ones_fill_gaps(archive, records, separately):
    write(
        records,
        "a.md",
        record(
            "https://example.com/a",
            related='[{webUrl: "https://example.com/s", title: "First",'
            ' images: [{url: "https://img.example.com/first.jpg"}]}]',
        ),
    )
    if separately:  # the stub is then already in the archive when b.md fills it in
        assert archive.run("import", str(records)).exit_code == 0
    write(
        records,
        "b.md",
        record(
            "https://example.com/b",
            related='[{webUrl: "https://example.com/s", title: "Second", excerpt: "Filled",'
            ' provider: {name: Later, domain: later.example}, images: [{url: "https://img.example.com/second.jpg"}]}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    stub = article(archive, "https://example.com/s")
    assert (stub["title"], stub["excerpt"], stub["provider_name"], stub["is_stub"]) == (
        "First",
        "Filled",
        "Later",
        1,
    )
    assert archive.rows(
        "SELECT i.url FROM article_image ai JOIN image i ON i.id = ai.image_id WHERE ai.article_id = ?",
        stub["id"],
    ) == [("https://img.example.com/first.jpg",)]
    found = archive.run("search", "Filled", "--format", "csv")
    assert "https://example.com/s" in found.output, "the filled-in excerpt is searchable"


def test_own_record_completes_the_stub_row(archive, records):
    write(
        records,
        "a.md",
        record(
            "https://example.com/a", related='[{webUrl: "https://example.com/s", title: "Stub"}]'
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    stub_id = article(archive, "https://example.com/s")["id"]
    write(records, "b.md", record("https://example.com/s", title='"Own"', topics="[T]"))
    assert archive.run("import", str(records)).exit_code == 0
    row = article(archive, "https://example.com/s")
    assert (row["id"], row["title"], row["is_stub"]) == (stub_id, "Own", 0)
    assert archive.count("article") == 2


def test_image_keeps_first_size_and_fills_it_in_when_missing(archive, records):
    write(
        records,
        "a.md",
        record("https://example.com/a", images='[{url: "https://i.example.com/x.jpg"}]'),
    )
    write(
        records,
        "b.md",
        record(
            "https://example.com/b",
            images='[{url: "https://i.example.com/x.jpg", width: 10, height: 20}]',
        ),
    )
    write(
        records,
        "c.md",
        record(
            "https://example.com/c",
            images='[{url: "https://i.example.com/x.jpg", width: 99, height: 99}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT url, width, height FROM image") == [
        ("https://i.example.com/x.jpg", 10, 20)
    ]
    assert archive.count("article_image") == 3


def test_duplicate_related_entries_and_topics_as_written(archive, records):
    write(
        records,
        "a.md",
        record(
            "https://example.com/a",
            topics='[AI, " ai ", Privacy]',
            related='[{webUrl: "https://example.com/r"}, {webUrl: "https://example.com/r"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT position FROM related_link ORDER BY position") == [(0,), (1,)]
    assert archive.rows("SELECT name FROM topic ORDER BY id") == [("AI",), ("Privacy",)]


def test_timestamps_are_stored_in_utc(archive, records):
    write(
        records,
        "a.md",
        record("https://example.com/a", publishedDateTime="2020-08-18T09:30:00+02:00"),
    )
    write(
        records, "b.md", record("https://example.com/b", publishedDateTime='"2020-08-20T07:00:00Z"')
    )
    write(records, "c.md", record("https://example.com/c", publishedDateTime="2020-08-19"))
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT published_at FROM article ORDER BY url") == [
        ("2020-08-18T07:30:00Z",),
        ("2020-08-20T07:00:00Z",),
        ("2020-08-19T00:00:00Z",),
    ]


def test_unknown_keys_are_kept_as_json(archive, records):
    write(
        records,
        "a.md",
        record(
            "https://example.com/a",
            locale="en-US",
            updatedDateTime="2020-01-01T10:00:00Z",
            images='[{url: "https://i.example.com/a.jpg", attribution: "AP"}]',
        ),
    )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.value("SELECT json_extract(extra, '$.locale') FROM article") == "en-US"
    assert archive.value("SELECT json_extract(extra, '$.updatedDateTime') FROM article").startswith(
        "2020-01-01T10:00:00"
    )
    assert archive.value("SELECT json_extract(extra, '$.attribution') FROM image") == "AP"


# --- the command itself ---------------------------------------------------------------


def test_stdin_reads_one_record(archive):
    result = archive.run("import", "-", input=record("https://example.com/stdin", title='"In"'))
    assert result.exit_code == 0, result.output
    assert article(archive, "https://example.com/stdin")["title"] == "In"
    assert archive.rows("SELECT path FROM source_file") == [("-",)]


def test_database_location_flag_env_and_default(tmp_path, records, monkeypatch):
    write(records, "a.md", record("https://example.com/a"))
    runner = CliRunner()
    cwd = str(tmp_path)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("ARCHIVE_DB", raising=False)
    assert runner.invoke(cli, ["import", str(records)]).exit_code == 0
    assert os.path.exists(os.path.join(cwd, "archive.db"))
    env_db = os.path.join(cwd, "from-env.db")
    assert runner.invoke(cli, ["import", str(records)], env={"ARCHIVE_DB": env_db}).exit_code == 0
    assert os.path.exists(env_db)
    flag_db = os.path.join(cwd, "from-flag.db")
    result = runner.invoke(
        cli, ["--db", flag_db, "import", str(records)], env={"ARCHIVE_DB": env_db}
    )
    assert result.exit_code == 0
    assert os.path.exists(flag_db)


def test_uri_looking_db_name_is_a_plain_file(tmp_path, records, monkeypatch):
    write(records, "a.md", record("https://example.com/a"))
    runner = CliRunner()
    cwd = str(tmp_path)
    monkeypatch.chdir(cwd)
    result = runner.invoke(cli, ["--db", "file:x.db?mode=ro", "import", str(records)])
    assert result.exit_code == 0, result.output
    assert os.path.exists(os.path.join(cwd, "file:x.db?mode=ro"))


def test_usage_errors_exit_2(archive, records):
    assert archive.run("import").exit_code == 2
    missing = archive.run("import", str(records / "nope"))
    assert missing.exit_code == 2
    assert "nope: no such file or directory" in missing.output
    assert archive.run("import", "--no-such-option", str(records)).exit_code == 2


def test_quiet_prints_nothing_and_piped_output_has_no_progress_bar(archive, records):
    write(records, "a.md", record("https://example.com/a"))
    assert archive.run("import", "--quiet", str(records)).output == ""
    write(records, "b.md", record("https://example.com/b"))
    output = archive.run("import", str(records)).output
    assert "Importing" not in output
    assert output.startswith("files: 2 seen")


def test_only_record_suffixes_are_read_from_folders(archive, records):
    write(records, "a.md", record("https://example.com/a"))
    write(records, "notes.json", "{}")
    write(records, ".hidden/b.md", record("https://example.com/b"))
    result = archive.run("import", str(records))
    assert "1 seen, 1 new" in result.output


def on_a_terminal(db, *args: str) -> tuple[int, str]:
    """Run archive with stderr on a pseudo-terminal, as a user at a shell sees it."""
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_DB"}
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "--db", str(db), *args],
        stderr=slave,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return process.wait(timeout=60), output.decode("utf-8", "replace")


def test_a_terminal_sees_progress_and_the_steps_after_the_last_file(archive, tmp_path):
    code, shown = on_a_terminal(archive.path, "import", str(DATA))
    assert code == 0, shown
    assert "Importing" in shown and "17/17 files" in shown
    # A first import builds its query indexes at the end: the user is told.
    assert "Building indexes" in shown
    assert "files: 17 seen, 17 new" in shown
    more = tmp_path / "more"
    write(more, "a.md", record("https://example.com/terminal"))
    code, shown = on_a_terminal(archive.path, "import", str(more))
    assert code == 0, shown
    assert "Importing" in shown
    assert "Building indexes" not in shown  # not a first import: nothing deferred


def test_a_terminal_is_told_when_an_import_first_builds_missing_indexes(archive, tmp_path):
    import sqlite3

    imported(archive, DATA)
    # As an interrupted first import leaves it: a deferred query index is missing.
    connection = sqlite3.connect(archive.path)
    connection.execute("DROP INDEX ix_article_topic_provider_id_topic_id_published_at")
    connection.commit()
    connection.close()
    more = tmp_path / "more"
    write(more, "a.md", record("https://example.com/after-an-interruption"))
    code, shown = on_a_terminal(archive.path, "import", str(more))
    assert code == 0, shown
    steps = [part.strip() for part in shown.split("\r") if " files" in part]
    building = [i for i, step in enumerate(steps) if "Building indexes" in step]
    assert building, steps
    # The import's label again once they are built.
    assert any("Importing" in step for step in steps[building[-1] :]), steps
    assert archive.rows(
        "SELECT name FROM sqlite_master WHERE name = 'ix_article_topic_provider_id_topic_id_published_at'"
    ) == [("ix_article_topic_provider_id_topic_id_published_at",)]


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--db", "{db}"],
        ["stats", "--db={db}"],
        ["search", "facial", "recognition", "--db", "{db}"],
        ["sql", "SELECT count(*) AS n FROM article", "--db", "{db}"],
    ],
    ids=lambda args: " ".join(args),
)
def test_db_may_follow_the_command(archive, args):
    """`archive stats --db x.db` is how people type it (it said 'Did you mean --bom?')."""
    from click.testing import CliRunner

    from archive.cli import cli

    assert archive.run("import", str(DATA)).exit_code == 0
    given = [arg.replace("{db}", str(archive.path)) for arg in args]
    result = CliRunner().invoke(cli, [*given, "--format", "json"], env={"ARCHIVE_DB": None})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout), result.output


def test_search_takes_several_words_without_quotes(archive):
    assert archive.run("import", str(DATA)).exit_code == 0
    words = archive.run("search", "facial", "recognition", "--format", "json")
    quoted = archive.run("search", "facial recognition", "--format", "json")
    assert words.exit_code == 0, words.output
    assert json.loads(words.stdout) == json.loads(quoted.stdout) != []


def test_a_folder_without_record_files_says_what_was_looked_for(archive, records):
    write(records, "notes.json", "{}")
    result = archive.run("import", str(records))
    assert result.exit_code == 0, result.output
    assert "files: 0 seen" in result.output
    assert f"note: no record files in {records}" in result.stderr
    assert ".md, .txt, .yaml, .yml" in result.stderr


@pytest.mark.parametrize("command", ["providers", "topics", "articles", "timeline"])
def test_an_impossible_date_range_is_refused_not_answered_empty(archive, command):
    from conftest import one_error_line

    assert archive.run("import", str(DATA)).exit_code == 0
    line = one_error_line(archive.run(command, "--since", "2020", "--until", "2019"), 2)
    assert line == "error: --since 2020 is after --until 2019: no date is in that range"
    # One day is a range: since and until on the same day find that day's articles.
    same_day = archive.run(command, "--since", "2020-08-17", "--until", "2020-08-17")
    assert same_day.exit_code == 0, same_day.output


def test_show_lists_the_article_first_then_a_few_files(archive, records):
    for index in range(6):
        write(records, f"f{index}.md", record("https://example.com/many", title=f'"T{index}"'))
    assert archive.run("import", str(records)).exit_code == 0
    shown = archive.run("show", "https://example.com/many", "--format", "csv").stdout.splitlines()
    files = [line for line in shown if line.startswith("also_in_file,")]
    assert files[-1] == "also_in_file,… and 2 more (--files)" and len(files) == 4
    assert shown.index(files[0]) > shown.index(next(s for s in shown if s.startswith("body,")))
    every = archive.run("show", "https://example.com/many", "--files", "--format", "csv")
    assert [line for line in every.stdout.splitlines() if line.startswith("also_in_file,")] == [
        f"also_in_file,{records / f'f{index}.md'}" for index in range(5)
    ]
