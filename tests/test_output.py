"""The output options every row-printing command shares, through the real CLI.

--format table|csv|tsv|json|jsonl, -o FILE, --limit, --no-headers, --bom, --excel-safe
and --force, on query commands, `archive sql` and `archive export`, on databases built
from the seed, data/ and records with awkward text written here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pytest
from conftest import imported, one_error_line, write
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.output import formats as output
from archive.rows import OutputOptions, Rows

SEED_URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"
MINIMAL_URL = "https://www.bbc.co.uk/news/technology-example-54010005"

# Two records whose text is hard on CSV writers and spreadsheets: commas, quotes,
# CRLF and LF inside values, leading = + - @ tab CR, accents, CJK and emoji.
TRICKY_1 = (
    "---\r\n"
    'title: "=SUM(A1:A2), \\"quoted\\", comma"\r\n'
    'excerpt: "+line one\\r\\nline two\\nline three"\r\n'
    'webUrl: "https://example.org/tricky-1"\r\n'
    "publishedDateTime: 2020-03-01T12:00:00Z\r\n"
    'category: "@mention"\r\n'
    'type: "-minus"\r\n'
    "quality: 5\r\n"
    "heat: -1\r\n"
    'provider: {name: "-Minus, \\"Provider\\"", domain: tricky.example}\r\n'
    'topics: ["@at topic", "Émoji 😀 topic", "comma, topic", "=formula"]\r\n'
    'images: [{url: "https://example.org/=img.jpg", width: 10, height: 20}]\r\n'
    "related:\r\n"
    '  - title: "@related, \\"stub\\""\r\n'
    '    webUrl: "https://example.org/tricky-stub"\r\n'
    "---\r\n"
    'Body line with CRLF\r\n"quoted", commas, = signs 😀\r\n'
)
TRICKY_2 = (
    "---\n"
    'title: "\\ttab start and 中文 🇫🇷"\n'
    'excerpt: "\\rcarriage return start"\n'
    'webUrl: "https://example.org/tricky-2"\n'
    "publishedDateTime: 2020-03-02T00:00:00Z\n"
    "quality: 7\n"
    'provider: {name: "Ünïcödé News", domain: unicode.example}\n'
    'topics: ["+plus topic"]\n'
    "---\n"
    'line1\nline2 with "quote" and, comma\n'
)

PROVIDERS_HEADER = "name,domain,articles,first_published,last_published,share"
GOTHAMIST_ROW = "Gothamist,gothamist.com,1,2020-08-17T18:08:00Z,2020-08-17T18:08:00Z,1.0"


# --- helpers ---------------------------------------------------------------------------


def ok(result):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def as_json(archive, *args: str):
    return json.loads(ok(archive.run(*args, "--format", "json")).stdout)


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith(".archive-"))


@pytest.fixture
def tricky(archive, records, seed_dir):
    write(records, "tricky_1.md", TRICKY_1)
    write(records, "tricky_2.md", TRICKY_2)
    return imported(archive, seed_dir, records)


# --- json and jsonl --------------------------------------------------------------------


def test_json_keeps_column_order_numbers_nulls_and_utc_timestamps(sample):
    result = ok(sample.run("articles", "--format", "json"))
    text = result.stdout
    assert text.startswith("[\n{") and text.endswith("}\n]\n")
    found = json.loads(text)
    assert isinstance(found, list) and len(found) == 16
    columns = [
        "published_at",
        "title",
        "provider",
        "domain",
        "topics",
        "type",
        "quality",
        "url",
        "is_stub",
    ]
    assert all(list(row) == columns for row in found)
    seed = next(row for row in found if row["url"] == SEED_URL)
    assert seed["published_at"] == "2020-08-17T18:08:00Z"
    assert seed["quality"] == 52 and isinstance(seed["quality"], int)
    assert seed["is_stub"] is False
    # The minimal record has no quality, date, title or provider: null, not "" or "None".
    minimal = next(row for row in found if row["url"] == MINIMAL_URL)
    assert minimal == dict.fromkeys(columns) | {"url": MINIMAL_URL, "is_stub": False, "topics": []}
    # Unicode is written as itself.
    assert "« à la hauteur des enjeux »" in text


def test_json_floats_and_sql_values(seeded):
    assert as_json(seeded, "providers", "--include-related") == [
        {
            "name": name,
            "domain": domain,
            "articles": 1,
            "first_published": stamp,
            "last_published": stamp,
            "share": 0.2,
        }
        for name, domain, stamp in [
            ("Gothamist", "gothamist.com", "2020-08-17T18:08:00Z"),
            ("NBC 6 South Florida", "nbcmiami.com", "2020-08-17T22:15:00Z"),
            ("New York Post", "nypost.com", "2020-08-17T08:14:00Z"),
            ("Newsweek", "newsweek.com", "2020-08-15T14:57:00Z"),
            ("The Star", "thestar.com.my", "2020-08-18T00:46:00Z"),
        ]
    ]
    assert as_json(
        seeded,
        "sql",
        "SELECT 1 AS one, 1.5 AS half, NULL AS empty, 'x' AS text, quality, heat"
        " FROM article WHERE is_stub = 0",
    ) == [{"one": 1, "half": 1.5, "empty": None, "text": "x", "quality": 52, "heat": -1}]


def test_json_keeps_every_column_when_names_repeat(seeded):
    # `SELECT a.id, p.id ...` or `SELECT * FROM article JOIN provider` repeat names;
    # no column's value may silently disappear from the JSON.
    found = as_json(seeded, "sql", "SELECT 1 AS x, 2 AS x")
    assert len(found) == 1
    assert sorted(found[0].values()) == [1, 2]


def test_json_is_strict_json(seeded):
    # RFC 8259 has no Infinity/NaN: strict parsers (jq, browsers) must read the output.
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    query = "SELECT 1e999 AS big, -1e999 AS small"
    result = ok(seeded.run("sql", query, "--format", "json"))
    rows = json.loads(result.stdout, parse_constant=refuse)
    assert len(rows) == 1 and list(rows[0]) == ["big", "small"]
    result = ok(seeded.run("sql", query, "--format", "jsonl"))
    assert list(json.loads(result.stdout, parse_constant=refuse)) == ["big", "small"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "table"])
def test_an_infinite_float_is_not_a_crash(seeded, fmt):
    # SQLite gives inf for an overflowing literal or product; it must print, not crash.
    result = seeded.run("sql", "SELECT 1e999 AS big, 2 AS n", "--format", fmt)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["big", "n"] or lines[0] in ("big,n", "big\tn")
    first_cell = re.split(r"[,\t ]+", lines[-1].strip())[0]
    assert first_cell.lower().lstrip("+") in ("inf", "infinity", "1e999")


def test_jsonl_is_one_object_per_line(sample):
    result = ok(sample.run("articles", "--format", "jsonl"))
    lines = result.stdout.split("\n")
    assert lines[-1] == ""  # ends with a newline
    assert [json.loads(line) for line in lines[:-1]] == as_json(sample, "articles")
    assert len(lines) - 1 == 16
    # Embedded newlines in values stay escaped inside their line.
    assert ok(
        sample.run("sql", "SELECT 'a' || char(10) || 'b' AS v, 2 AS n", "--format", "jsonl")
    ).stdout == ('{"v": "a\\nb", "n": 2}\n')


def test_json_and_jsonl_with_no_rows(seeded):
    assert ok(seeded.run("providers", "--limit", "0", "--format", "json")).stdout == "[]\n"
    assert ok(seeded.run("providers", "--topic", "nothing", "--format", "json")).stdout == "[]\n"
    assert ok(seeded.run("providers", "--limit", "0", "--format", "jsonl")).stdout == ""


# --- csv and tsv -----------------------------------------------------------------------


def test_csv_is_the_default_when_not_a_terminal_with_crlf_line_ends(seeded):
    result = ok(seeded.run("providers", "--topic", "Computer Vision"))
    assert result.stdout_bytes == f"{PROVIDERS_HEADER}\r\n{GOTHAMIST_ROW}\r\n".encode()


def test_csv_file_has_crlf_line_ends_and_no_bom(seeded, tmp_path):
    target = tmp_path / "providers.csv"
    result = ok(seeded.run("providers", "--include-related", "-o", str(target)))
    assert result.stdout == ""  # rows go to the file only
    data = target.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith(PROVIDERS_HEADER.encode() + b"\r\n")
    assert data.count(b"\r\n") == 6
    assert data.replace(b"\r\n", b"").count(b"\n") == 0
    assert data.endswith(b"\r\n")
    assert read_csv(data)[1] == [
        "Gothamist",
        "gothamist.com",
        "1",
        "2020-08-17T18:08:00Z",
        "2020-08-17T18:08:00Z",
        "0.2",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["providers", "--topic", "Computer Vision"],
        ["sql", "SELECT name FROM provider ORDER BY name"],
        ["export", "provider"],
    ],
    ids=lambda c: c[0],
)
def test_bom_only_when_asked(seeded, tmp_path, command):
    with_bom, without = tmp_path / "with.csv", tmp_path / "without.csv"
    ok(seeded.run(*command, "--bom", "-o", str(with_bom)))
    ok(seeded.run(*command, "-o", str(without)))
    assert with_bom.read_bytes() == b"\xef\xbb\xbf" + without.read_bytes()
    assert without.read_bytes()[:1] not in (b"\xef", b"")
    # To stdout too.
    assert ok(seeded.run(*command, "--bom")).stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert not ok(seeded.run(*command)).stdout_bytes.startswith(b"\xef\xbb\xbf")


def test_tsv(seeded):
    result = ok(seeded.run("providers", "--topic", "Computer Vision", "--format", "tsv"))
    assert result.stdout_bytes == (
        b"name\tdomain\tarticles\tfirst_published\tlast_published\tshare\r\n"
        b"Gothamist\tgothamist.com\t1\t2020-08-17T18:08:00Z\t2020-08-17T18:08:00Z\t1.0\r\n"
    )
    # A tab inside a value is quoted.
    result = ok(seeded.run("sql", "SELECT 'a' || char(9) || 'b' AS v", "--format", "tsv"))
    assert result.stdout_bytes == b'v\r\n"a\tb"\r\n'


def test_csv_quotes_awkward_values(tricky):
    result = ok(
        tricky.run(
            "sql", "SELECT title, excerpt FROM article WHERE url = 'https://example.org/tricky-1'"
        )
    )
    assert result.stdout_bytes == (
        b'title,excerpt\r\n"=SUM(A1:A2), ""quoted"", comma","+line one\r\nline two\nline three"\r\n'
    )


def table_and_view_names(archive) -> list[str]:
    found = as_json(
        archive,
        "sql",
        "SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%'"
        " AND name NOT LIKE 'article_fts%'",
    )
    return [row["name"] for row in found]


def csv_text(value) -> str:
    """A JSON value as the README says CSV writes it: NULL empty, booleans true/false,
    lists (topics) and objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def test_every_table_and_view_round_trips_through_csv(tricky, tmp_path):
    names = table_and_view_names(tricky)
    assert {
        "article",
        "article_url",
        "provider",
        "topic",
        "article_topic",
        "image",
        "article_image",
        "related_link",
        "source_file",
        "alembic_version",
        "article_summary",
        "topic_article",
        "provider_summary",
        "related_summary",
    } <= set(names)
    # The awkward text really is in the archive, byte for byte.
    assert tricky.rows(
        "SELECT title, excerpt, body FROM article WHERE url = 'https://example.org/tricky-1'"
    ) == [
        (
            '=SUM(A1:A2), "quoted", comma',
            "+line one\r\nline two\nline three",
            'Body line with CRLF\r\n"quoted", commas, = signs 😀\r\n',
        )
    ]
    try:
        import pandas
    except ImportError:
        pandas = None
    for name in names:
        target = tmp_path / f"{name}.csv"
        result = ok(tricky.run("export", name, "-o", str(target)))
        count = tricky.value(f'SELECT count(*) FROM "{name}"')
        assert f"wrote {count} rows to {target}" in result.output
        expected = as_json(tricky, "export", name)
        assert len(expected) == count, name
        header, *body = read_csv(target.read_bytes())
        columns = [row[1] for row in tricky.rows(f"SELECT * FROM pragma_table_info('{name}')")]
        assert header == columns, name
        assert all(list(row) == columns for row in expected), name
        as_text = [[csv_text(v) for v in row.values()] for row in expected]
        assert body == as_text, name
        assert len(body) == count, name
        if pandas is not None:
            frame = pandas.read_csv(target, dtype=str, keep_default_na=False, encoding="utf-8")
            assert list(frame.columns) == columns, name
            assert frame.to_numpy().tolist() == as_text, name
        assert leftovers(tmp_path) == []


def test_query_command_csv_round_trips_awkward_text(tricky):
    result = ok(tricky.run("articles", "--since", "2020-03", "--until", "2020-03"))
    header, *body = read_csv(result.stdout_bytes)
    expected = as_json(tricky, "articles", "--since", "2020-03", "--until", "2020-03")
    assert header == list(expected[0])
    assert body == [[csv_text(v) for v in row.values()] for row in expected]
    assert [row["title"] for row in expected] == [
        "\ttab start and 中文 🇫🇷",
        '=SUM(A1:A2), "quoted", comma',
    ]
    assert expected[1]["topics"] == ["@at topic", "Émoji 😀 topic", "comma, topic", "=formula"]
    assert body[1][4] == '["@at topic", "Émoji 😀 topic", "comma, topic", "=formula"]'
    assert body[1][-1] == "false"
    assert expected[1]["provider"] == '-Minus, "Provider"'


# --- --excel-safe ----------------------------------------------------------------------


def test_excel_safe_defuses_formulas_but_not_numbers(tricky):
    query = (
        "SELECT title, excerpt, category, type, heat, quality, '-1' AS text_minus_one,"
        " -1.5 AS negative_float FROM article WHERE url LIKE 'https://example.org/tricky-_' ORDER BY url"
    )
    result = ok(tricky.run("sql", query, "--excel-safe"))
    assert read_csv(result.stdout_bytes) == [
        [
            "title",
            "excerpt",
            "category",
            "type",
            "heat",
            "quality",
            "text_minus_one",
            "negative_float",
        ],
        [
            '\'=SUM(A1:A2), "quoted", comma',
            "'+line one\r\nline two\nline three",
            "'@mention",
            "'-minus",
            "-1",
            "5",
            "'-1",
            "-1.5",
        ],
        ["'\ttab start and 中文 🇫🇷", "'\rcarriage return start", "", "", "", "7", "'-1", "-1.5"],
    ]
    # JSON keeps values as they are: the option is refused there.
    refused = tricky.run("sql", query, "--excel-safe", "--format", "json")
    assert refused.exit_code == 2, refused.output
    # Without the option nothing changes.
    plain = read_csv(ok(tricky.run("sql", query)).stdout_bytes)
    assert plain[1][:4] == [
        '=SUM(A1:A2), "quoted", comma',
        "+line one\r\nline two\nline three",
        "@mention",
        "-minus",
    ]


def as_csv_records(archive, *args: str) -> list[dict]:
    """CSV output as dicts, with whole numbers read back as numbers."""
    rows = read_csv(ok(archive.run(*args, "--format", "csv")).stdout_bytes)
    return [
        {
            key: (int(value) if value.lstrip("-").isdigit() else value or None)
            for key, value in zip(rows[0], row, strict=True)
        }
        for row in rows[1:]
    ]


def test_excel_safe_on_query_commands(tricky):
    found = as_csv_records(
        tricky, "articles", "--excel-safe", "--since", "2020-03", "--until", "2020-03"
    )
    assert [(r["title"], r["provider"], r["topics"], r["type"], r["quality"]) for r in found] == [
        ("'\ttab start and 中文 🇫🇷", "Ünïcödé News", '["+plus topic"]', None, 7),
        (
            '\'=SUM(A1:A2), "quoted", comma',
            '\'-Minus, "Provider"',
            '["@at topic", "Émoji 😀 topic", "comma, topic", "=formula"]',
            "'-minus",
            5,
        ),
    ]
    # Timestamps are not text from a spreadsheet's point of view and stay as they are.
    assert found[0]["published_at"] == "2020-03-02T00:00:00Z"
    shown = dict(
        (r["field"], r["value"])
        for r in as_csv_records(tricky, "show", "https://example.org/tricky-1", "--excel-safe")
    )
    assert shown["heat"] == -1
    assert shown["title"] == '\'=SUM(A1:A2), "quoted", comma'
    assert shown["links_to"] == "https://example.org/tricky-stub (unknown provider)"


def test_excel_safe_export_to_file(tricky, tmp_path):
    target = tmp_path / "topics.csv"
    ok(tricky.run("export", "topic", "--excel-safe", "--bom", "-o", str(target)))
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data[3:])
    assert rows[0] == ["id", "key", "name"]
    names = [row[2] for row in rows[1:]]
    assert names == [
        "Computer Vision",
        "AI",
        "'@at topic",
        "Émoji 😀 topic",
        "comma, topic",
        "'=formula",
        "'+plus topic",
    ]
    # ids are numbers: untouched
    assert [row[0] for row in rows[1:]] == [str(i) for i in range(1, 8)]


# --- -o, --force, symbolic links, failures ---------------------------------------------


def test_output_file_is_not_overwritten_without_force(seeded, tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"precious\n")
    for command in (["providers"], ["sql", "SELECT 1"], ["export", "topic"]):
        result = seeded.run(*command, "-o", str(target))
        assert (
            one_error_line(result, exit_code=6)
            == f"error: {target} already exists (use --force to replace it)"
        )
        assert target.read_bytes() == b"precious\n"
    assert leftovers(tmp_path) == []


def test_force_replaces_the_output_file(seeded, tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"precious\n")
    ok(seeded.run("providers", "--topic", "Computer Vision", "-o", str(target), "--force"))
    assert target.read_bytes() == f"{PROVIDERS_HEADER}\r\n{GOTHAMIST_ROW}\r\n".encode()
    ok(seeded.run("export", "topic", "-o", str(target), "--force", "--format", "json"))
    assert json.loads(target.read_text("utf-8")) == [
        {"id": 1, "key": "computer vision", "name": "Computer Vision"},
        {"id": 2, "key": "ai", "name": "AI"},
    ]
    assert leftovers(tmp_path) == []


def test_dash_is_stdout(seeded, tmp_path):
    result = ok(seeded.run("providers", "--topic", "Computer Vision", "-o", "-"))
    assert result.stdout_bytes == f"{PROVIDERS_HEADER}\r\n{GOTHAMIST_ROW}\r\n".encode()


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_output_through_a_symbolic_link_is_refused(seeded, tmp_path, force):
    target = tmp_path / "target.csv"
    target.write_bytes(b"keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    for command in (["providers"], ["export", "article"], ["sql", "SELECT 1"]):
        result = seeded.run(*command, "-o", str(link), *force)
        assert "symbolic link" in one_error_line(result, exit_code=6)
        assert target.read_bytes() == b"keep me\n"
        assert link.is_symlink()
        result = seeded.run(*command, "-o", str(dangling), *force)
        assert "symbolic link" in one_error_line(result, exit_code=6)
        assert not (tmp_path / "nowhere.csv").exists()
    assert leftovers(tmp_path) == []


RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
FAILS_AT_ROW_2500 = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)"
    " SELECT x, CASE WHEN x = 2500 THEN json('{') ELSE 'ok' END AS v FROM c"
)


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--query", "SELEC 1"],
        ["export", "--query", "SELECT * FROM no_such_table"],
        ["export", "--query", "DELETE FROM article"],
        ["export", "--query", RUNAWAY, "--timeout", "0.3"],
        ["export", "--query", FAILS_AT_ROW_2500],
        ["export", "no_such_table"],
        ["sql", FAILS_AT_ROW_2500],
        ["sql", RUNAWAY, "--timeout", "0.3"],
        ["related", "https://example.org/nothing"],
    ],
    ids=lambda c: " ".join(c)[:40],
)
def test_a_failing_export_leaves_no_file(seeded, tmp_path, command):
    target = tmp_path / "out.csv"
    status = 8 if "--timeout" in command else 1  # 8: stopped at its time limit
    result = seeded.run(*command, "-o", str(target))
    one_error_line(result, status)
    assert not target.exists()
    assert leftovers(tmp_path) == []
    # With --force onto an existing file: the old file is kept, not clobbered.
    target.write_bytes(b"old export\n")
    result = seeded.run(*command, "-o", str(target), "--force")
    one_error_line(result, status)
    assert target.read_bytes() == b"old export\n"
    assert leftovers(tmp_path) == []


def test_output_into_a_missing_folder_is_a_clear_error(seeded, tmp_path):
    target = tmp_path / "no" / "such" / "out.csv"
    result = seeded.run("providers", "-o", str(target))
    assert str(target) in one_error_line(result, exit_code=6)
    assert not (tmp_path / "no").exists()


# --- --limit and --no-headers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "header"),
    [
        (["providers"], PROVIDERS_HEADER),
        (["articles"], "published_at,title,provider,domain,topics,type,quality,url,is_stub"),
        (["sql", "SELECT id, url FROM article"], "id,url"),
        (["export", "topic"], "id,key,name"),
        (["timeline"], "period,articles"),
    ],
    ids=lambda c: c[0] if isinstance(c, list) else None,
)
def test_limit_zero_gives_only_the_header(seeded, command, header):
    result = ok(seeded.run(*command, "--limit", "0", "--format", "csv"))
    assert result.stdout_bytes == header.encode() + b"\r\n"
    result = ok(seeded.run(*command, "--limit", "0", "--no-headers", "--format", "csv"))
    assert result.stdout_bytes == b""


def test_limit_and_no_headers(sample):
    full = read_csv(ok(sample.run("articles")).stdout_bytes)
    assert len(full) == 17  # the header and 16 articles
    assert read_csv(ok(sample.run("articles", "--limit", "3")).stdout_bytes) == full[:4]
    assert (
        read_csv(ok(sample.run("articles", "--limit", "3", "--no-headers")).stdout_bytes)
        == full[1:4]
    )
    assert read_csv(ok(sample.run("articles", "--no-headers")).stdout_bytes) == full[1:]
    assert read_csv(ok(sample.run("articles", "--limit", "100")).stdout_bytes) == full
    assert len(as_json(sample, "articles", "--limit", "2")) == 2
    tsv = ok(sample.run("topics", "--no-headers", "--limit", "1", "--format", "tsv")).stdout_bytes
    assert tsv == b"AI\t9\t2019-10-08T11:00:00Z\t2021-09-29T23:01:00Z\r\n"
    assert sample.run("topics", "--limit", "-1").exit_code == 2


def test_limit_on_export_to_file(sample, tmp_path):
    target = tmp_path / "a.csv"
    result = ok(sample.run("export", "article", "--limit", "5", "-o", str(target)))
    assert f"wrote 5 rows to {target}" in result.output
    rows = read_csv(target.read_bytes())
    assert len(rows) == 6
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5"]


# --- table -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch):
    # Tables follow COLUMNS (tests/test_terminal_tables.py); these expect none.
    monkeypatch.delenv("COLUMNS", raising=False)


PROVIDERS_TABLE = [
    "name                 domain          articles  first_published       last_published        share",
    "-------------------  --------------  --------  --------------------  --------------------  -----",
    "Gothamist            gothamist.com          1  2020-08-17T18:08:00Z  2020-08-17T18:08:00Z    0.2",
    "NBC 6 South Florida  nbcmiami.com           1  2020-08-17T22:15:00Z  2020-08-17T22:15:00Z    0.2",
    "New York Post        nypost.com             1  2020-08-17T08:14:00Z  2020-08-17T08:14:00Z    0.2",
    "Newsweek             newsweek.com           1  2020-08-15T14:57:00Z  2020-08-15T14:57:00Z    0.2",
    "The Star             thestar.com.my         1  2020-08-18T00:46:00Z  2020-08-18T00:46:00Z    0.2",
]


def test_table_has_header_separator_and_aligned_rows(seeded):
    args = ("providers", "--topic", "computer vision", "--include-related", "--format", "table")
    assert ok(seeded.run(*args)).stdout == "\n".join(PROVIDERS_TABLE) + "\n"
    assert ok(seeded.run(*args, "--no-headers")).stdout == "\n".join(PROVIDERS_TABLE[2:]) + "\n"
    # Column widths follow the rows shown.
    assert ok(seeded.run(*args, "--limit", "1")).stdout.splitlines() == [
        "name       domain         articles  first_published       last_published        share",
        "---------  -------------  --------  --------------------  --------------------  -----",
        "Gothamist  gothamist.com         1  2020-08-17T18:08:00Z  2020-08-17T18:08:00Z    0.2",
    ]


def test_table_to_a_file(seeded, tmp_path):
    target = tmp_path / "t.txt"
    ok(
        seeded.run(
            "providers",
            "--topic",
            "computer vision",
            "--include-related",
            "--format",
            "table",
            "-o",
            str(target),
        )
    )
    assert target.read_text("utf-8") == "\n".join(PROVIDERS_TABLE) + "\n"


def test_table_cells_are_one_line_and_never_cut(tricky, monkeypatch):
    result = ok(
        tricky.run(
            "sql",
            "SELECT excerpt, 12 AS n, NULL AS z FROM article WHERE url = 'https://example.org/tricky-1'",
            "--format",
            "table",
        )
    )
    assert result.stdout.splitlines() == [
        "excerpt                          n  z",
        "------------------------------  --  -",
        "+line one  line two line three  12",
    ]
    # Piped, with no COLUMNS, a table is as wide as its values: nothing is cut.
    words = " ".join(["word"] * 20)
    result = ok(tricky.run("sql", f"SELECT '{words}' AS v, 1 AS n", "--format", "table"))
    assert result.stdout.splitlines()[2] == words + "  1"
    # Narrower than its values, a text cell wraps in full.
    monkeypatch.setenv("COLUMNS", "40")
    result = ok(tricky.run("sql", f"SELECT '{words}' AS v, 1 AS n", "--format", "table"))
    assert result.stdout.splitlines() == [
        "v                                      n",
        "-------------------------------------  -",
        "word word word word word word word     1",
        "word word word word word word word",
        "word word word word word word",
    ]


def test_table_shows_at_most_1000_rows_and_says_so(seeded):
    counting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT x FROM c"
    lines = ok(seeded.run("sql", counting.format(n=1001), "--format", "table")).stdout.splitlines()
    assert lines[:2] == ["   x", "----"]
    assert lines[2:1002] == [str(i).rjust(4) for i in range(1, 1001)]
    assert lines[1002:] == ["(showing the first 1000 rows; use --format csv or --limit for all)"]
    # Exactly 1000 rows: no note. csv has them all.
    lines = ok(seeded.run("sql", counting.format(n=1000), "--format", "table")).stdout.splitlines()
    assert len(lines) == 1002 and lines[-1] == "1000"
    csv_rows = read_csv(ok(seeded.run("sql", counting.format(n=1001))).stdout_bytes)
    assert len(csv_rows) == 1002 and csv_rows[-1] == ["1001"]


# The CSV/TSV writer builds lines itself (the csv module is twice as slow on article
# exports); it must write exactly what the csv module writes.
_cells = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(alphabet=st.sampled_from(list("ab ,;\"\t\r\n'é東😀=-")), max_size=12),
    st.binary(max_size=6),
    st.datetimes(timezones=st.just(dt.timezone.utc)),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.lists(_cells, min_size=1, max_size=5), max_size=6),
    st.sampled_from(["csv", "tsv"]),
    st.booleans(),
)
def test_delimited_output_is_what_the_csv_module_writes(rows, fmt, headers):
    width = max((len(r) for r in rows), default=1)
    columns = [f"c{i}" if i else "a,b" for i in range(width)]
    out = io.StringIO()
    count = output.write(Rows(columns, rows), OutputOptions(format=fmt, headers=headers), out)
    expected = io.StringIO()
    reference = csv.writer(expected, delimiter="," if fmt == "csv" else "\t", lineterminator="\r\n")
    if headers:
        reference.writerow(columns)
    for row in rows:
        reference.writerow(
            [v if type(v) in (str, int) or v is None else output.text_value(v) for v in row]
        )
    assert out.getvalue() == expected.getvalue()
    assert count == len(rows)


# Exports to a file are formatted and written by a second process (offload.py).
@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
@pytest.mark.parametrize(
    "extra", [[], ["--bom", "--excel-safe"], ["--no-headers", "--limit", "3"]], ids=str
)
def test_an_offloaded_export_writes_what_stdout_gets(tricky, tmp_path, monkeypatch, fmt, extra):
    from archive.output import offload

    calls = []
    real = offload.write_in_child
    monkeypatch.setattr(output, "offload_available", lambda: True)
    monkeypatch.setattr(offload, "ROWS_PER_MESSAGE", 2)  # several messages even here
    monkeypatch.setattr(output, "write_in_child", lambda *args: calls.append(1) or real(*args))
    target = tmp_path / f"out.{fmt}"
    to_file = tricky.run("export", "article_summary", "--format", fmt, *extra, "-o", str(target))
    if fmt.startswith("json") and "--bom" in extra:
        assert to_file.exit_code == 2, to_file.output  # spreadsheet options: csv and tsv only
        assert not target.exists()
        return
    assert to_file.exit_code == 0, to_file.output
    assert calls, "the export to a file did not go through the second process"
    to_stdout = tricky.run("export", "article_summary", "--format", fmt, *extra)
    assert target.read_bytes() == to_stdout.stdout_bytes
    assert leftovers(tmp_path) == []


def _failing_writer(result, rows, stream, options):
    for index, _row in enumerate(rows):
        if index == 3:
            raise OSError(28, "No space left on device")
    return 0


def _dying_writer(result, rows, stream, options):
    next(iter(rows))
    os._exit(3)  # as if killed: no message back


@pytest.mark.parametrize(
    ("writer", "status", "message"),
    [
        # A full disk is the output's fault (6); a writer that dies is ours (1).
        (_failing_writer, 6, "error: cannot write {target}: No space left on device"),
        (_dying_writer, 1, "error: the writing process ended unexpectedly (exit status 3)"),
    ],
    ids=["fails", "dies"],
)
def test_a_writing_process_that_fails_or_dies_is_one_line_and_leaves_no_file(
    seeded, tmp_path, monkeypatch, writer, status, message
):
    monkeypatch.setattr(output, "offload_available", lambda: True)
    monkeypatch.setitem(output._WRITERS, "csv", writer)
    target = tmp_path / "out.csv"
    result = seeded.run("export", "article", "-o", str(target))
    assert one_error_line(result, status) == message.format(target=target)
    assert not target.exists()
    assert leftovers(tmp_path) == []
