"""Tables fit the terminal (issue 14): every command that prints rows, at COLUMNS=40,
80 and 200, on the sample data, the real sample records and records in wide scripts.

The rules checked, through the real CLI:
- no output line is wider than COLUMNS display cells (CJK and emoji count 2,
  combining marks 0);
- the lines of a table line up in display cells, whatever the script;
- a URL is never cut: with the line breaks of a wrapped `field │ value` line undone
  (a newline, the blank field column and `│ `), the full URL is in the output; a URL
  no longer than half the width is on one line;
- `show` prints every value in full, the body included.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, REAL, hang_guard, record, write

from archive.cli import cli

WIDTHS = (40, 80, 200)
LONG_URL = "https://example.org/news/" + "-".join(["surveillance-cameras"] * 12) + "?id=42"
BODY = "\n".join(
    [
        "First paragraph: " + " ".join(["the council voted on facial recognition"] * 6),
        "",
        "東京都は顔認識カメラの設置を増やすと発表した。" * 4,
        "Emoji 😀🎉 and combining e\u0301 survive, as does "
        + "averyveryverylongwordthatnolinecanhold" * 3,
    ]
)


def wide_records(folder: Path) -> Path:
    """Records whose text is CJK, emoji and combining marks, one with a long body
    and a URL longer than any terminal here."""
    write(
        folder,
        "cjk.md",
        record(
            LONG_URL,
            BODY,
            title='"東京の顔認識カメラが増える"',
            provider='{name: "朝日新聞", domain: asahi.com}',
            topics="[監視, AI]",
            quality="70",
            publishedDateTime="2021-03-01T09:00:00Z",
            related='[{title: "😀 Emoji news 🎉", webUrl: "https://emoji.example/news/2021/'
            'smiles-and-party-poppers-in-the-headlines", provider: {name: "Émoji Daily 🎉",'
            " domain: emoji.example}}]",
        ),
    )
    write(
        folder,
        "combining.md",
        record(
            "https://lemonde.example/cafe",
            title='"Cafe\\u0301 de\\u0301ja\\u0300 vu: the same face, twice"',
            provider="{name: Le Monde, domain: lemonde.example}",
            topics="[AI]",
            quality="5",
            publishedDateTime="2021-03-02T09:00:00Z",
        ),
    )
    write(
        folder,
        "emoji.md",
        record(
            "https://emoji.example/news/2021/smiles-and-party-poppers-in-the-headlines",
            "😀" * 70,
            title='"😀 Emoji news 🎉 from the 📷 desk"',
            provider='{name: "Émoji Daily 🎉", domain: emoji.example}',
            topics="[AI, 監視]",
            quality="100",
            publishedDateTime="2021-03-03T09:00:00Z",
        ),
    )
    return folder


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    sources = {"data": DATA, "real": REAL, "wide": wide_records(folder / "wide")}
    made = {}
    for name, source in sources.items():
        made[name] = folder / f"{name}.db"
        result = run(made[name], ["import", "--quiet", str(source)], None)
        assert result.exit_code == 0, result.output
    return made


def run(db: Path, args: list[str], columns: int | None):
    env = {"ARCHIVE_DB": None, "COLUMNS": None if columns is None else str(columns)}
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=env)


def cells(text: str) -> int:
    """Display width, measured independently of archive/output/table.py."""
    width = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def unwrapped(output: str) -> str:
    """The output with the wrapping of `field │ value` lines undone."""
    return re.sub(r"\n *│ ", "", output)


def sql_values(db: Path, sql: str) -> list[str]:
    result = run(db, ["sql", sql, "--format", "jsonl"], None)
    assert result.exit_code == 0, result.output
    return [next(iter(json.loads(line).values())) for line in result.stdout.splitlines()]


def column(db: Path, args: list[str], name: str) -> list[str]:
    """One column of what `archive ARGS` answers, read as JSON."""
    result = run(db, [*args, "--format", "jsonl"], None)
    assert result.exit_code == 0, result.output
    return [json.loads(line)[name] for line in result.stdout.splitlines()]


def strings(db: Path, args: list[str]) -> list[str]:
    """Every text value in show's JSON object, however deep."""
    result = run(db, [*args, "--format", "json"], None)
    assert result.exit_code == 0, result.output
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(json.loads(result.stdout))
    return found


def commands(db: Path) -> list[list[str]]:
    """Every command that prints rows, with arguments this archive answers."""
    topic = sql_values(db, "SELECT name FROM topic ORDER BY name LIMIT 1")[0]
    domain = sql_values(db, "SELECT domain FROM provider WHERE domain IS NOT NULL LIMIT 1")[0]
    linked = sql_values(
        db,
        "SELECT a.url FROM article a JOIN related_link r ON r.article_id = a.id"
        " ORDER BY a.id LIMIT 1",
    )
    own = sql_values(db, "SELECT url FROM article WHERE NOT is_stub ORDER BY id")
    word = sql_values(db, "SELECT title FROM article WHERE title IS NOT NULL LIMIT 1")[0]
    word = max(re.findall(r"\w+", word), key=len)
    found = [
        ["providers"],
        ["providers", "--topic", topic, "--include-related"],
        ["topics"],
        ["topics", "--provider", domain],
        ["articles"],
        ["articles", "--include-stubs"],
        ["search", word],
        ["timeline", "--by", "month"],
        ["timeline", "--topic", topic, "--by", "year"],
        ["cooccur", "--topic", topic],
        ["stats"],
        ["sql", "SELECT * FROM article_summary"],
        ["sql", "SELECT * FROM article"],
        ["export", "provider"],
        *(["related", url] for url in linked),
        *(["show", url] for url in own),
    ]
    return [[*args, "--format", "table"] for args in found]


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", ["data", "real", "wide"])
def test_no_line_is_wider_than_the_terminal(archives, name, columns):
    with hang_guard():
        for args in commands(archives[name]):
            result = run(archives[name], args, columns)
            assert result.exit_code == 0, (args, result.output)
            lines = result.stdout.splitlines()
            assert lines, args
            wide = [line for line in lines if cells(line) > columns]
            assert not wide, (args, wide)


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", ["data", "real", "wide"])
def test_urls_are_never_cut(archives, name, columns):
    db = archives[name]
    urls = sql_values(db, "SELECT url FROM article")
    # (articles' compact view on a narrow terminal has no URLs: --columns asks for them)
    listings = [
        ["articles", "--include-stubs", "--columns", "title,url"],
        ["sql", "SELECT url, title FROM article"],
    ]
    listings += [["related", url] for url in urls]
    listings += [["show", url] for url in urls]
    for args in listings:
        output = run(db, [*args, "--format", "table"], columns).stdout
        wanted = column(db, args, "url") if args[0] != "show" else strings(db, args)
        wanted = [url for url in wanted if isinstance(url, str) and re.match(r"https?://", url)]
        for url in wanted:
            url = url.split(" ")[0]  # show's `links_to  URL (provider)`
            assert url in unwrapped(output), (args, url, output)
            if len(url) <= columns // 2:
                assert any(url in line for line in output.splitlines()), (args, url, output)


def test_related_urls_can_be_copied_into_show(archives):
    """The issue's case: `related` cut URLs, so they could not be given to `show`."""
    db = archives["wide"]
    output = unwrapped(run(db, ["related", LONG_URL, "--format", "table"], 40).stdout)
    url = re.search(r"https://emoji\.example/\S+", output).group(0)
    result = run(db, ["show", url, "--format", "table"], 40)
    assert result.exit_code == 0, result.output
    assert "😀Emojinews🎉fromthe📷desk" in value_text(result.stdout)


def value_text(output: str) -> str:
    """Everything in the value column of a `field │ value` view, without whitespace."""
    values = [line.split("│", 1)[1] if "│" in line else "" for line in output.splitlines()]
    return re.sub(r"\s", "", "".join(values))


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", ["data", "real", "wide"])
def test_show_prints_every_value_in_full(archives, name, columns):
    db = archives[name]
    for url in sql_values(db, "SELECT url FROM article WHERE NOT is_stub"):
        output = run(db, ["show", url, "--format", "table"], columns).stdout
        # A vertical view: one `field │ value` line per field, no table header.
        assert output.splitlines()[0].startswith("id "), output
        assert all("│" in line for line in output.splitlines()), output
        texts = value_text(output)
        article = (
            "SELECT {} FROM article WHERE url = '" + url.replace("'", "''") + "'"
        )  # fmt: skip
        for field in ("title", "excerpt", "body", "url"):
            value = sql_values(db, article.format(field))[0]
            if value:
                assert re.sub(r"\s", "", value) in texts, (field, output)


def test_a_long_body_wraps_with_its_paragraphs(archives):
    output = run(archives["wide"], ["show", LONG_URL, "--format", "table"], 80).stdout
    body = output[output.index("\nbody ") + 1 :].splitlines()
    assert len(body) > 5
    # Words wrap at spaces within the 61 cells the value column has (80 - 16 - 3).
    assert (
        body[0] == "body             │ First paragraph: the council voted on facial recognition the"
    )
    assert body[1] == "                 │ council voted on facial recognition the council voted on"
    assert "" in [line.split("│", 1)[1].strip() for line in body]  # the blank line between
    assert any("東京都は顔認識カメラ" in line for line in body)


@pytest.mark.parametrize("columns", WIDTHS)
def test_wide_characters_line_up(archives, columns):
    """A table's lines end where its right-aligned last column ends, counted in cells."""
    db = archives["wide"]
    sql = "SELECT title, provider, quality FROM article_summary ORDER BY quality"
    lines = run(db, ["sql", sql, "--format", "table"], columns).stdout.splitlines()
    numbered = [line for line in lines if re.search(r"(quality|-|\d)$", line)]
    assert len(numbered) == 2 + 3, lines
    assert len({cells(line) for line in numbered}) == 1, lines
    lines = run(db, ["articles", "--format", "table"], columns).stdout.splitlines()
    assert all(cells(line) <= columns for line in lines), lines
    if lines[0].startswith("published_at "):  # a table, not records: rows end with is_stub
        ends = [line for line in lines if line.endswith(("false", "is_stub", "-"))]
        assert len({cells(line) for line in ends}) == 1, lines


def test_a_table_that_fits_is_one_line_per_row(archives):
    for args in (["topics"], ["providers"], ["timeline", "--by", "month"]):
        table = run(archives["data"], [*args, "--format", "table"], 200).stdout.splitlines()
        csv = run(archives["data"], [*args, "--format", "csv"], 200).stdout.splitlines()
        assert len(table) == len(csv) + 1, table  # a header, its rule, the rows


def test_a_terminal_without_columns_uses_its_own_width(archives):
    """On a terminal, with no COLUMNS and no --format, the table takes the terminal's
    width (here a pseudo terminal 50 columns wide); the timeline's bars shrink to fit."""
    import fcntl
    import struct
    import termios

    for args in (["articles"], ["timeline", "--by", "month"], ["providers"]):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "ARCHIVE_DB")}
        with hang_guard():
            process = subprocess.Popen(
                [sys.executable, "-m", "archive", "--db", str(archives["data"]), *args],
                stdout=slave,
                stderr=slave,
                env=env,
            )
            os.close(slave)
            chunks = []
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            assert process.wait() == 0
        os.close(master)
        lines = b"".join(chunks).decode("utf-8").splitlines()
        assert len(lines) > 3, lines
        assert all(cells(line) <= 50 for line in lines), lines
        if args[0] == "timeline":
            assert any("█" in line for line in lines), lines


def test_an_empty_answer_too_wide_for_a_table_still_names_its_columns(archives):
    result = run(
        archives["data"], ["sql", "SELECT * FROM article WHERE 0", "--format", "table"], 40
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and all(cells(line) <= 40 for line in lines), lines
    names = column(
        archives["data"], ["sql", "SELECT name FROM pragma_table_info('article')"], "name"
    )
    assert result.stdout.split() == names


def answer_parts(db: Path, args: list[str]) -> tuple[list[str], list[str]]:
    """The column names and every text value of what `args` answers, read as JSON."""
    result = run(db, [*args[:-2], "--format", "json"], None)  # args end with --format table
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    if isinstance(data, dict):  # show: one object
        return list(data), strings(db, args[:-2])
    names = list(data[0]) if data else []
    texts = [v for row in data for v in row.values() if isinstance(v, str)]
    return names, texts


ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DATE = re.compile(r"\d{4}-\d\d-\d\d")


def from_cell(line: str, offset: int) -> str:
    """`line` from display cell `offset` on."""
    used = 0
    for index, char in enumerate(line):
        if used >= offset:
            return line[index:]
        used += cells(char)
    return ""


def split_values(lines: list[str], protected: set[str]) -> list[tuple[str, str]]:
    """(value, its first piece) for each protected value whose start ends a cell and
    whose rest continues the line below, where a wrapped cell continues."""
    found = []
    for number, line in enumerate(lines[:-1]):
        for match in re.finditer(r"[^\s│]+(?: [^\s│]+)*", line):
            piece = match.group(0)
            if piece in protected:
                continue
            below = from_cell(lines[number + 1], cells(line[: match.start()]))
            for value in protected:
                rest = value[len(piece) :]
                if value.startswith(piece) and rest and below.startswith(rest):
                    found.append((value, piece))
    return found


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", ["data", "real", "wide"])
def test_no_url_domain_timestamp_or_header_is_split(archives, name, columns):
    """No header, domain, timestamp or URL that would fit on a line (at most half the
    width) is split over two lines: the table narrows text columns, shows timestamps
    as their dates, or turns to one block per row instead."""
    db = archives[name]
    domains = set(sql_values(db, "SELECT domain FROM provider WHERE domain IS NOT NULL"))
    for args in commands(db):
        lines = run(db, args, columns).stdout.splitlines()
        names, texts = answer_parts(db, args)
        values = {t for t in texts if ISO.fullmatch(t) or t in domains or _URL_START.match(t)}
        protected = {v for v in values | set(names) if cells(v) <= columns // 2}
        assert not split_values(lines, protected), (args, columns, lines)
        for line in lines:  # the time of a timestamp never starts a cell of its own
            for found in re.finditer(r"T\d\d:\d\d:\d\dZ", line):
                assert DATE.search(line[max(0, found.start() - 10) : found.start()]), (args, line)


_URL_START = re.compile(r"https?://")


@pytest.mark.parametrize("columns", WIDTHS)
def test_headers_are_whole_in_every_table(archives, columns):
    for name in ("data", "real", "wide"):
        db = archives[name]
        for args in commands(db):
            lines = run(db, args, columns).stdout.splitlines()
            if args[0] == "show" or lines[0].startswith("-["):
                continue  # field │ value views: their names are checked above
            names, _ = answer_parts(db, args)
            header = [cell for cell in re.split(r"\s{2,}", lines[0].strip()) if cell]
            assert set(header) <= set(names), (args, columns, header)
            assert len(header) >= min(2, len(names)), (args, columns, header)


def test_articles_are_one_line_each_on_a_narrow_terminal(archives):
    for columns in (40, 80):
        db = archives["real"]
        lines = run(db, ["articles", "--format", "table"], columns).stdout.splitlines()
        titles = column(db, ["articles"], "title")
        assert len(lines) == 2 + len(titles), lines  # a header, its rule, a line each
        assert all(cells(line) <= columns for line in lines)
        assert lines[0].split()[0] == "published_at" and lines[0].split()[-1] == "title"
        for line, title in zip(lines[2:], titles, strict=True):
            shown = line.split("  ")[-1].strip()
            assert title == shown or (shown.endswith("…") and title.startswith(shown[:-1]))
    # --columns asks for those columns in full instead: nothing is cut.
    output = run(archives["real"], ["articles", "--columns", "title,url", "--format", "table"], 80)
    assert "…" not in output.stdout
    for title in column(archives["real"], ["articles"], "title"):
        assert re.sub(r"\s", "", title) in re.sub(r"\s|│", "", output.stdout)
