"""Values at the edges: what YAML can say but the archive cannot hold, dates and
numbers at the ends of their range, and file names or values that would break a
message. Each is one clear line (a rejection or a usage error), never exit 70,
and the rest of the folder is imported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import hang_guard, one_error_line, record, write
from reliability_checks import escaped, run_archive
from test_serve import fetch_json

from archive.ingest import files
from archive.query.queries import MAX_PERIODS
from archive.serve import server

GOOD_A = "https://example.com/good-a"
GOOD_C = "https://example.com/good-c"
BAD = "https://example.com/bad"


def _bad_file(*lines: str) -> str:
    """A record whose YAML lines start at line 3 (line 1 `---`, line 2 its webUrl)."""
    return "\n".join(["---", f'webUrl: "{BAD}"', *lines, "---", ""])


def import_between_good_files(archive, records: Path, name: str, content: str | bytes):
    """Import a folder of a good file, the bad one and another good file."""
    write(records, "a.md", record(GOOD_A))
    bad = write(records, name, content)
    write(records, "c.md", record(GOOD_C))
    with hang_guard():
        result = archive.run("import", "--workers", "0", str(records))
    return bad, result


def assert_one_rejection(archive, result, bad: Path, where: str) -> str:
    """Exit 1, one `rejected:` line starting with `where`, and both good files in."""
    assert isinstance(result.exception, SystemExit), escaped(result)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected:")]
    assert len(rejected) == 1, result.stderr
    assert rejected[0].startswith(f"rejected: {bad}:{where}"), result.stderr
    assert "files: 3 seen, 2 new, 0 updated, 0 unchanged, 1 rejected" in result.stderr
    assert sorted(archive.rows("SELECT url FROM article WHERE NOT is_stub")) == [
        (GOOD_A,),
        (GOOD_C,),
    ]
    return rejected[0]


# --- 4. what YAML's safe loader makes but the archive cannot store ----------------

UNSTORABLE = {
    "set-at-the-top": (("tags: !!set {a, b}",), "3: tags: sets"),
    "set-in-a-list": (("tags:", "  - x", "  - !!set {a}"), "5: tags[1]: sets"),
    "set-in-provider": (
        ("provider:", "  name: P", "  logos: !!set {a}"),
        "5: provider.logos: sets",
    ),
    "set-in-an-image": (
        ("images:", "  - url: https://example.com/i.jpg", "    sizes: !!set {1, 2}"),
        "5: images[0].sizes: sets",
    ),
    "set-in-a-related-entry": (
        ("related:", "  - webUrl: https://example.com/r", "    flags: !!set {x}"),
        "5: related[0].flags: sets",
    ),
    "set-in-a-related-provider": (
        (
            "related:",
            "  - webUrl: https://example.com/r",
            "    provider:",
            "      name: R",
            "      kinds: !!set {x}",
        ),
        "7: related[0].provider.kinds: sets",
    ),
    "set-deep-in-an-unknown-key": (
        ("meta:", "  a:", "    - b: !!set {x}"),
        "5: meta.a[0].b: sets",
    ),
    "binary-in-an-unknown-key": (("logo: !!binary AAAA",), "3: logo: binary"),
    "binary-in-an-image": (
        ("images:", "  - url: https://example.com/i.jpg", "    data: !!binary AAAA"),
        "5: images[0].data: binary",
    ),
    "huge-integer-in-an-unknown-key": (("views: 1180591620717411303424",), "3: views: number"),
    "huge-integer-in-a-related-entry": (
        ("related:", "  - webUrl: https://example.com/r", "    views: -99999999999999999999"),
        "5: related[0].views: number",
    ),
    "huge-integer-in-a-field": (("quality: 9223372036854775808",), "3: quality: number"),
    # A key that is not text has no field path: the line is the mapping's.
    "binary-key": (("? !!binary AAAA", ": x"), "2: field names must be text"),
}


@pytest.mark.parametrize(("lines", "where"), UNSTORABLE.values(), ids=UNSTORABLE)
def test_a_value_the_archive_cannot_store_rejects_its_file_alone(archive, records, lines, where):
    bad, result = import_between_good_files(archive, records, "b.md", _bad_file(*lines))
    assert_one_rejection(archive, result, bad, where)


NUL_IN_A_VALUE = {
    "title": (('title: "a\\0b"',), "3: title: contains a NUL"),
    "escaped-as-unicode": (('title: "a\\u0000b"',), "3: title: contains a NUL"),
    "escaped-as-long-unicode": (('title: "a\\U00000000b"',), "3: title: contains a NUL"),
    "topic": (("topics:", '  - "AI\\x00"'), "4: topics[0]: contains a NUL"),
    "related-title": (
        ("related:", "  - webUrl: https://example.com/r", '    title: "\\0"'),
        "5: related[0].title: contains a NUL",
    ),
    "in-an-ordered-map": (('order: !!omap [a: "\\0"]',), "3: order[0][1]: contains a NUL"),
    "in-a-key": (('"k\\0": 1',), "2: contains a NUL"),
}


@pytest.mark.parametrize(("lines", "where"), NUL_IN_A_VALUE.values(), ids=NUL_IN_A_VALUE)
def test_a_nul_escaped_in_a_value_rejects_its_file_alone(archive, records, lines, where):
    """PostgreSQL cannot store NUL in text or JSON (there it ended the import); no
    engine gets one, so both archives hold the same."""
    bad, result = import_between_good_files(archive, records, "b.md", _bad_file(*lines))
    assert_one_rejection(archive, result, bad, where)


@pytest.mark.parametrize(
    "lines", [('title: "a\\0b"',), ("tags: !!set {a, b}",), ("views: 99999999999999999999",)]
)
def test_unstorable_values_are_one_rejection_on_postgresql(pg_archive, records, lines):
    bad, result = import_between_good_files(pg_archive, records, "b.md", _bad_file(*lines))
    assert_one_rejection(pg_archive, result, bad, "3: ")


def test_ordered_pairs_are_kept_as_lists(archive, records):
    """`!!omap` and `!!pairs` make tuples: storable, as JSON lists."""
    write(records, "a.md", _bad_file("order: !!omap [a: 1, b: 2]"))
    result = archive.run("import", "--workers", "0", str(records))
    assert result.exit_code == 0, result.output
    assert archive.value("SELECT extra FROM article") == '{"order": [["a", 1], ["b", 2]]}'


# --- 7. dates and numbers at the ends of their range ------------------------------

OUT_OF_RANGE = {
    "year-9999": "publishedDateTime: 9999-12-30",
    "past-9999-in-utc": "publishedDateTime: 9998-12-31T23:00:00-05:00",
    "before-year-1-in-utc": "publishedDateTime: 0001-01-01T00:30:00+01:00",
    "quoted-year-9999": 'publishedDateTime: "9999-01-01T00:00:00Z"',
}


@pytest.mark.parametrize("line", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE)
def test_a_date_outside_the_archive_range_is_rejected(archive, records, line):
    bad, result = import_between_good_files(archive, records, "b.md", _bad_file(line))
    message = assert_one_rejection(archive, result, bad, "3: publishedDateTime: ")
    assert "timestamp out of range" in message and "0001-01-01 to 9998-12-31" in message


def test_a_related_date_outside_the_range_is_rejected(archive, records):
    content = _bad_file(
        "related:", "  - webUrl: https://example.com/r", "    publishedDateTime: 9999-06-01"
    )
    bad, result = import_between_good_files(archive, records, "b.md", content)
    assert_one_rejection(archive, result, bad, "5: related[0].publishedDateTime: timestamp")


@pytest.fixture
def edge_dates(archive, records):
    """An archive with articles on the first and the last day of the accepted range."""
    write(records, "first.md", record("https://example.com/first", publishedDateTime="0001-01-01"))
    write(records, "last.md", record("https://example.com/last", publishedDateTime="9998-12-31"))
    write(records, "late.md", record("https://example.com/late", publishedDateTime="9998-06-30"))
    result = archive.run("import", "--workers", "0", str(records))
    assert result.exit_code == 0, result.output
    return archive


@pytest.mark.parametrize(
    ("by", "last"),
    # (a timeline of everything: period and articles, no share that is always 1)
    [("year", "9998,2"), ("month", "9998-12,1"), ("week", "9998-W53,1"),
     ("day", "9998-12-31,1")],
)  # fmt: skip
def test_timeline_steps_to_the_last_date_of_the_range(edge_dates, by, last):
    result = edge_dates.run(
        "timeline", "--by", by, "--since", "9998", "--until", "9999-12-31", "--format", "csv"
    )
    assert isinstance(result.exception, SystemExit) or result.exception is None, escaped(result)
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[-1] == last, rows[-3:]


def test_timeline_over_an_absurd_range_is_refused_with_a_hint(edge_dates):
    result = edge_dates.run("timeline", "--by", "day", "--since", "0001", "--until", "9998")
    line = one_error_line(result, exit_code=2)
    assert f"3,651,694 periods, more than {MAX_PERIODS:,}" in line, line
    assert "--by" in line and "--since/--until" in line


def test_timeline_fills_the_whole_range_when_it_is_reasonable(edge_dates):
    result = edge_dates.run("timeline", "--by", "year", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[1] == "0001,1" and rows[-1] == "9998,2"
    assert len(rows) == 1 + 9998


def test_the_served_timeline_passes_february_0300(archive, records):
    """SQLite's date('0300-02-01', '+1 month') is 0300-02-29: stepping with it never ended."""
    for day in ("0300-01-15", "0300-04-10"):
        write(records, f"{day}.md", record(f"https://example.com/{day}",
              publishedDateTime=day, topics="[Old]"))  # fmt: skip
    assert archive.run("import", str(records)).exit_code == 0
    datasette = server.datasette_for(archive.path)
    try:
        with hang_guard(60):
            rows = fetch_json(datasette, "/test/timeline_for_topic.json?_shape=array&topic=old")
    finally:
        for database in datasette.databases.values():
            database.close()
    assert [(r["month"], r["articles"]) for r in rows] == [
        ("0300-01", 1), ("0300-02", 0), ("0300-03", 0), ("0300-04", 1),
    ]  # fmt: skip


NUMBERS = [
    ("articles", "--limit", "99999999999999999999"),
    ("articles", "--min-quality", "9" * 40),
    ("import", "--max-file-size", "1e30"),
    ("import", "--max-file-size", "inf"),
    ("import", "--max-file-size", "nan"),
    ("timeline", "--limit", "9223372036854775808"),
]


@pytest.mark.parametrize(("command", "option", "value"), NUMBERS)
def test_a_number_the_code_cannot_hold_is_a_usage_error(
    edge_dates, records, command, option, value
):
    args = [command, option, value] + ([str(records)] if command == "import" else [])
    line = one_error_line(edge_dates.run(*args), exit_code=2)
    assert f"Invalid value for '{option}'" in line, line


def test_until_the_last_day_python_knows_is_accepted(edge_dates):
    result = edge_dates.run("articles", "--until", "9999-12-31", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 3


def test_a_large_max_file_size_reads_in_bounded_chunks(archive, records, monkeypatch):
    """--max-file-size 1000 (MB) must not ask the OS for a gigabyte per file."""
    write(records, "a.md", record(GOOD_A))
    asked: list[int] = []
    real_read = files.os.read

    def read(descriptor: int, size: int) -> bytes:
        asked.append(size)
        return real_read(descriptor, size)

    monkeypatch.setattr(files.os, "read", read)
    result = archive.run("import", "--workers", "0", "--max-file-size", "1000", str(records))
    assert result.exit_code == 0, result.output
    assert asked and max(asked) <= files.READ_CHUNK, asked


# --- 9. messages --------------------------------------------------------------------


def test_a_file_name_cannot_forge_a_line_or_reach_the_terminal(archive, records):
    forged = "a\nrejected: fake.md: forged line\n.md"
    bad = write(records, forged, _bad_file("quality: high"))
    write(records, "b\x1b[31mred\x1b[0m.md", _bad_file("quality: low"))
    write(records, "c.md", record(GOOD_C))
    result = archive.run("import", "--workers", "0", str(records))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    rejected = [line for line in lines if line.startswith("rejected:")]
    assert len(rejected) == 2, result.stderr
    assert "\x1b" not in result.output
    shown = str(bad).replace("\n", "\\n")
    assert rejected[0] == f"rejected: {shown}:3: quality: expected a whole number, got text 'high'"
    assert "b\\x1b[31mred\\x1b[0m.md:3: quality" in rejected[1], rejected[1]


def test_a_path_in_an_error_line_is_escaped(archive, records):
    result = archive.run("import", str(records / "no\x1b]0;owned\x07such\nfolder"))
    line = one_error_line(result, exit_code=2)
    assert "\x1b" not in line and "\x07" not in line
    assert "no\\x1b]0;owned\\x07such\\nfolder" in line, line


def test_rapidyaml_prints_nothing_of_its_own(tmp_path):
    """Deep block nesting passes the fast path's checks and fails in rapidyaml's JSON
    emitter, whose C++ code wrote `emit.def.hpp:1372: ERROR ...` to fd 2."""
    records = tmp_path / "records"
    nested = "".join(" " * i + f"k{i}:\n" for i in range(100))
    bad = write(records, "deep.md", f'---\nwebUrl: "{BAD}"\n{nested}---\n')
    write(records, "c.md", record(GOOD_C))
    result = run_archive(tmp_path / "a.db", "import", "--workers", "0", str(records))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert "hpp" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    assert lines[0].startswith(f"rejected: {bad}:") and "nested deeper than 64" in lines[0]
    assert lines[1:] == [
        "files: 2 seen, 1 new, 0 updated, 0 unchanged, 1 rejected",
        "added: 1 articles, 0 providers, 0 topics, 0 images",
    ], result.stderr


VALUES_IN_MESSAGES = {
    "a-date-not-a-repr": ("title: 2020-01-01", "got a date 2020-01-01 ", "datetime"),
    "a-timestamp-not-a-repr": (
        "quality: 2020-01-01 10:00:00",
        "got a date 2020-01-01T10:00:00",
        "datetime",
    ),
    "a-bad-offset-without-timedelta": (
        "publishedDateTime: 2020-01-01 10:00:00 +99",
        "the UTC offset must be less than 24 hours",
        "timedelta",
    ),
    "a-long-number-cut": ("quality: " + "9" * 5000, "9" * 40 + "…", "9" * 41),
    "a-long-number-in-a-field-cut": ("heat: " + "9" * 300, "9" * 40 + "…", "9" * 41),
    "a-long-text-cut": ("quality: '" + "x" * 300 + "'", "x" * 40 + "…'", "x" * 41),
}


@pytest.mark.parametrize(("line", "said", "unsaid"), VALUES_IN_MESSAGES.values(),
                         ids=VALUES_IN_MESSAGES)  # fmt: skip
def test_values_in_messages_are_written_as_yaml_and_cut(archive, records, line, said, unsaid):
    bad, result = import_between_good_files(archive, records, "b.md", _bad_file(line))
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected:")]
    assert len(rejected) == 1, result.stderr
    assert said in rejected[0], rejected[0]
    assert unsaid not in rejected[0], rejected[0]
    assert len(rejected[0]) < 200 + len(str(bad)), rejected[0]


def test_messages_have_no_python_reprs_anywhere(archive, records):
    """A sweep: every rejection of a folder of mistyped values reads as YAML."""
    mistakes = ["title: 2020-01-01", "excerpt: 12:30:00", "published: 2020-01-01",
                "quality: 1.5", "topics: {a: 1}", "webUrl2: !!binary AAAA",
                "related: 2020-01-01 10:00:00+02:00"]  # fmt: skip
    for i, line in enumerate(mistakes):
        write(records, f"{i}.md", _bad_file(line))
    result = archive.run("import", "--workers", "0", str(records))
    assert result.exit_code == 1, result.output
    assert not re.search(r"datetime\.|timedelta\(|b'|\bTrue\b|\bNone\b", result.stderr), (
        result.stderr
    )


def test_a_comparison_over_an_absurd_range_is_refused_before_any_row(archive, records):
    for name, day in (("a", "0001-01-01"), ("b", "9998-12-31")):
        write(records, f"{name}.md", record(f"https://{name}.example/x", publishedDateTime=day,
                                            provider=f"{{name: {name}, domain: {name}.example}}"))  # fmt: skip
    assert archive.run("import", "--workers", "0", str(records)).exit_code == 0
    result = archive.run("timeline", "--provider", "a.example", "--provider", "b.example",
                         "--compare", "--by", "day")  # fmt: skip
    line = one_error_line(result, exit_code=2)
    assert "periods, more than" in line and result.stdout == "", result.output
    year = archive.run("timeline", "--provider", "a.example", "--provider", "b.example",
                       "--compare", "--by", "year", "--format", "csv")  # fmt: skip
    assert year.stdout.splitlines()[-1] == "9998,1,0,0.0,1,1.0", year.output
