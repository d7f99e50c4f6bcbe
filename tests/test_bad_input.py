"""Hostile and malformed record files, through the real CLI into a real database.

Every bad file must be rejected with one line naming the file, the line and the
field, without a traceback, while the good file next to it is imported and nothing
already in the archive changes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import hang_guard, imported, record, write

from archive.ingest.records import MAX_FILE_BYTES

BAD_URL = "https://example.com/bad-record"


@dataclass(frozen=True)
class Case:
    """A bad file and the rejection it must get.

    `line` is the 1-based line in the file (None: the error names no line; a range:
    any line in it is right). `field` is the dotted field path (None: the error is
    about the file or the YAML, not one field). `reason` must appear in the reason.
    """

    content: bytes | Callable[[], bytes]
    line: int | range | None
    field: str | None
    reason: str
    name: str = "bad.md"


def fm(*lines: str) -> bytes:
    """A front-matter file from its YAML lines: line 1 is `---`, so lines[0] is line 2."""
    return ("---\n" + "".join(f"{line}\n" for line in lines) + "---\n").encode("utf-8")


def _billion_laughs() -> bytes:
    lines = [f"webUrl: {BAD_URL}", "a: &a [" + ", ".join(['"lol"'] * 10) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return fm(*lines)  # a..i on lines 3..11


def _nested(depth: int) -> bytes:
    return fm(f"webUrl: {BAD_URL}", "title: " + "[" * depth + "]" * depth)


def _too_big() -> bytes:
    head = fm(f"webUrl: {BAD_URL}", "title: Too big")
    return head + b"x" * (MAX_FILE_BYTES + 1 - len(head))


CASES = {
    "quality-text": Case(
        fm(f"webUrl: {BAD_URL}", "title: Bad", "quality: high"),
        4, "quality", "expected a whole number, got text 'high'",
    ),
    "topics-string": Case(
        fm(f"webUrl: {BAD_URL}", 'topics: "AI"', "quality: 3"),
        3, "topics", "expected a list, got text 'AI'",
    ),
    "provider-list": Case(
        fm(f"webUrl: {BAD_URL}", "title: Bad", "provider: [Gothamist, gothamist.com]"),
        4, "provider", "expected a mapping of fields, got a list",
    ),
    "image-without-url": Case(
        fm(
            f"webUrl: {BAD_URL}",
            "images:",
            "  - url: https://example.com/a.jpg",
            "    width: 10",
            "  - width: 20",
            "    height: 30",
        ),
        6, "images[1].url", "is required",
    ),
    "published-maybe": Case(
        fm(f"webUrl: {BAD_URL}", "published: maybe"),
        3, "published", "expected true or false, got text 'maybe'",
    ),
    "heat-float": Case(
        fm(f"webUrl: {BAD_URL}", "title: Bad", "heat: 1.5"),
        4, "heat", "expected a whole number, got a number 1.5",
    ),
    "title-yes": Case(
        fm(f"webUrl: {BAD_URL}", "title: yes"),
        3, "title", "expected text, got a boolean true",
    ),
    "title-2020": Case(
        fm(f"webUrl: {BAD_URL}", "excerpt: fine", "title: 2020"),
        4, "title", "expected text, got an integer 2020",
    ),
    "excerpt-octal": Case(
        fm(f"webUrl: {BAD_URL}", "excerpt: 012"),
        3, "excerpt", "expected text, got an integer",
    ),
    "no-address": Case(
        fm("title: No URL", "quality: 3"),
        None, None, "no address: none of webUrl, originalUrl is given",
    ),
    "null-addresses": Case(
        fm("title: No URL", "webUrl: null", "originalUrl: ~"),
        None, None, "no address: none of webUrl, originalUrl is given",
    ),
    "related-without-address": Case(
        fm(
            f"webUrl: {BAD_URL}",
            "related:",
            "  - originalUrl: https://youtube.com/watch?v=WJk-Y8LQlfE",
            "  - title: Nowhere",
        ),
        5, "related[1]", "no address: none of webUrl, originalUrl is given",
    ),
    "webUrl-not-a-url": Case(
        fm("title: Bad", "webUrl: not-a-url"),
        3, "webUrl", "not an http(s) URL: 'not-a-url'",
    ),
    "publishedDateTime-yesterday": Case(
        fm(f"webUrl: {BAD_URL}", 'publishedDateTime: "yesterday"'),
        3, "publishedDateTime", "not a date or timestamp: 'yesterday'",
    ),
    "related-provider-string": Case(
        fm(
            f"webUrl: {BAD_URL}",
            "related:",
            "  - webUrl: https://example.com/related-0",
            "    provider: {name: A, domain: a.example.com}",
            "  - webUrl: https://example.com/related-1",
            "    provider: Some Provider",
        ),
        7, "related[1].provider", "expected a mapping of fields, got text",
    ),
    "related-missing-webUrl": Case(
        fm(
            f"webUrl: {BAD_URL}",
            "related:",
            "  - title: Orphan",
            "    excerpt: no url here",
        ),
        4, "related[0]", "no address: none of webUrl, originalUrl is given",
    ),
    "python-tag": Case(
        fm(f"webUrl: {BAD_URL}", 'title: !!python/object/apply:os.system ["echo hacked > PWNED"]'),
        3, None, "python/object/apply:os.system",
    ),
    "duplicate-key": Case(
        fm(f"webUrl: {BAD_URL}", "title: First", "excerpt: x", "title: Second"),
        5, None, "duplicate key 'title'",
    ),
    "billion-laughs": Case(_billion_laughs, range(3, 12), None, "aliases expand to more than"),
    "too-many-aliases": Case(
        fm(f"webUrl: {BAD_URL}", "x: &x 1", "y: [" + ", ".join(["*x"] * 101) + "]"),
        4, None, "more than 100 aliases",
    ),
    "self-alias": Case(
        fm(f"webUrl: {BAD_URL}", "a: &x [*x]"),
        3, None, "alias refers to itself",
    ),
    "nested-100": Case(lambda: _nested(100), 3, None, "nested deeper than 64 levels"),
    "nested-2000": Case(lambda: _nested(2_000), 3, None, "nest"),
    "nested-100000": Case(lambda: _nested(100_000), 3, None, "nest"),
    # Block nesting is not limited by libyaml; our own depth bound must catch it.
    "nested-block-2000": Case(
        fm(f"webUrl: {BAD_URL}", "title:", "- " * 2_000 + "x"),
        4, None, "nested deeper than 64 levels",
    ),
    "nested-block-indented": Case(
        fm(f"webUrl: {BAD_URL}", *[" " * i + f"k{i}:" for i in range(300)]),
        range(60, 75), None, "nested deeper than 64 levels",
    ),
    "latin-1": Case(
        b"---\nwebUrl: " + BAD_URL.encode() + b"\ntitle: caf\xe9\n---\n",
        3, None, "not UTF-8 text (byte 0xe9",
    ),
    "nul-character": Case(
        fm(f"webUrl: {BAD_URL}", "title: Bad", "excerpt: a\x00b"),
        4, None, "NUL character",
    ),
    "empty-file": Case(b"", None, None, "file is empty"),
    "whitespace-only": Case(b"  \n\t\n\r\n\n", None, None, "file is empty"),
    "front-matter-list": Case(
        fm(f"- webUrl: {BAD_URL}", "- title: Bad"),
        2, None, "front matter must be a mapping of fields, not a list",
    ),
    "front-matter-scalar": Case(
        fm("just some text"),
        2, None, "front matter must be a mapping of fields, not text",
    ),
    "front-matter-empty": Case(b"---\n---\n", 1, None, "front matter is empty"),
    # No closing `---`: the whole file is one bare YAML document (README), in which
    # the prose after the comment-like heading becomes a key; there is no webUrl.
    "unclosed-front-matter-prose": Case(
        b"---\ntitle: x\n\n# Heading\nSome *markdown* text: with colon",
        None, None, "no address: none of webUrl, originalUrl is given",
    ),
    # The quote opens on line 3; the parser only notices at the end of the block.
    "unclosed-quote": Case(
        fm(f"webUrl: {BAD_URL}", 'title: "unclosed', "excerpt: fine"),
        3, None, "invalid YAML",
    ),
    # `----` is not a delimiter, so the file is a bare YAML document, and not a valid one.
    "four-dashes": Case(
        b"----\ntitle: x\nwebUrl: " + BAD_URL.encode() + b"\n----\n",
        2, None, "invalid YAML",
    ),
    "over-size-limit": Case(_too_big, None, None, f"larger than {MAX_FILE_BYTES} bytes"),
}  # fmt: skip


def good_record(url: str, title: str = "Good record") -> bytes:
    front = fm(f'title: "{title}"', "excerpt: fine", f'webUrl: "{url}"', "quality: 7")
    return front + b"A good body.\n"


REJECTED = re.compile(r"^rejected: (?P<where>.*)$", re.MULTILINE)


def parse_rejection(output: str, path: Path) -> tuple[int | None, str]:
    """The single `rejected:` line for `path`, as (line, rest after the location)."""
    lines = REJECTED.findall(output)
    assert len(lines) == 1, output
    where = lines[0]
    prefix = f"{path}"
    assert where.startswith(prefix), output
    match = re.fullmatch(r"(?::(?P<line>\d+))?: (?P<rest>.+)", where[len(prefix) :])
    assert match, output
    line = match["line"]
    return (None if line is None else int(line)), match["rest"]


def assert_kept(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> None:
    """Every row that was in the archive before is still there, unchanged."""
    assert set(before) <= set(after)
    for table, rows in before.items():
        missing = [row for row in rows if row not in after[table]]
        assert not missing, f"{table}: rows lost or changed: {missing}"


def import_beside_good(archive, seed_dir, records, bad_name: str, bad: bytes, good_url: str):
    """Seed the archive, then import a folder of one bad and one good file."""
    imported(archive, seed_dir)
    before = archive.snapshot()
    bad_path = write(records, bad_name, bad)
    write(records, "good.md", good_record(good_url))
    # The work a hostile file costs is bounded by the limit whose rejection the test
    # checks (aliases, depth, size): it is refused before being expanded, recursed
    # through or read whole. A clock would fail loaded machines too; it only guards
    # against a hang.
    with hang_guard():
        result = archive.run("import", str(records))
    return before, bad_path, result


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_file_is_rejected_and_the_rest_imported(
    case: Case, archive, seed_dir, records, tmp_path, monkeypatch
):
    start_dir = Path.cwd()
    monkeypatch.chdir(tmp_path)  # where a `!!python` tag that ran would write PWNED
    content = case.content() if callable(case.content) else case.content
    good_url = "https://example.com/good-record-beside-a-bad-one"
    before, bad_path, result = import_beside_good(
        archive, seed_dir, records, case.name, content, good_url
    )
    output = result.output

    # 1. Exit status and summary.
    assert result.exit_code == 1, output
    assert "2 seen, 1 new, 0 updated, 0 unchanged, 1 rejected" in output, output

    # 2. One error line naming the file, the line, the field and the reason, on stderr.
    assert "rejected: " in result.stderr, output
    line, rest = parse_rejection(output, bad_path)
    if isinstance(case.line, range):
        assert line in case.line, output
    else:
        assert line == case.line, output
    if case.field is None:
        reason = rest
    else:
        assert rest.startswith(f"{case.field}: "), output
        reason = rest[len(case.field) + 2 :]
    assert case.reason in reason, output

    # 3. No traceback, nothing run.
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    for folder in {start_dir, tmp_path, records, Path(tempfile.gettempdir())}:
        assert not (folder / "PWNED").exists(), folder

    # 4. The good file is in; the bad one left no trace; the archive lost nothing.
    assert archive.rows("SELECT title, quality, is_stub FROM article WHERE url = ?", good_url) == [
        ("Good record", 7, 0)
    ]
    assert archive.count("source_file") == 2
    assert archive.rows("SELECT path FROM source_file WHERE path = ?", str(bad_path)) == []
    assert archive.rows("SELECT url FROM article WHERE url = ?", BAD_URL) == []
    after = archive.snapshot()
    assert_kept(before, after)
    assert len(after["article"]) == len(before["article"]) + 1


def test_strict_stops_at_a_bad_file_and_writes_nothing(archive, seed_dir, records):
    imported(archive, seed_dir)
    before = archive.snapshot()
    write(records, "a_good.md", good_record("https://example.com/strict-a", "First good"))
    bad = write(records, "b_bad.md", fm(f"webUrl: {BAD_URL}", "title: Bad", "quality: high"))
    write(records, "c_good.md", good_record("https://example.com/strict-c", "Last good"))

    result = archive.run("import", "--strict", str(records))

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    assert f"{bad}:4: quality: expected a whole number" in errors[0]
    assert "--strict" in errors[0]
    assert archive.snapshot() == before


def test_strict_then_fixed_imports_everything(archive, seed_dir, records):
    """Nothing from the aborted --strict run lingers to block or skip the retry."""
    imported(archive, seed_dir)
    write(records, "a_good.md", good_record("https://example.com/strict-a", "First good"))
    bad = write(records, "b_bad.md", fm(f"webUrl: {BAD_URL}", "quality: high"))
    assert archive.run("import", "--strict", str(records)).exit_code == 1

    write(records, bad.name, fm(f"webUrl: {BAD_URL}", "quality: 5"))
    result = archive.run("import", "--strict", str(records))

    assert result.exit_code == 0, result.output
    assert "2 seen, 2 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert archive.value("SELECT quality FROM article WHERE url = ?", BAD_URL) == 5


EDGE_URL = "https://example.com/edge-format"

# (file name, bytes, title expected in the archive, body expected in article.body)
EDGE_CASES = {
    "utf8-bom": (
        "bom.md",
        b"\xef\xbb\xbf---\ntitle: BOM\nwebUrl: " + EDGE_URL.encode() + b"\n---\nBody.\n",
        "BOM",
        "Body.\n",
    ),
    "crlf": (
        "crlf.md",
        b"---\r\ntitle: CRLF\r\nwebUrl: "
        + EDGE_URL.encode()
        + b"\r\n---\r\nLine one\r\nLine two\r\n",
        "CRLF",
        "Line one\r\nLine two\r\n",
    ),
    "closing-at-eof-without-newline": (
        "eof.txt",
        b"---\ntitle: EOF\nwebUrl: " + EDGE_URL.encode() + b"\n---",
        "EOF",
        "",
    ),
    "bare-mapping": (
        "bare.yaml",
        b"title: Bare\nwebUrl: " + EDGE_URL.encode() + b"\n",
        "Bare",
        None,
    ),
    "body-with-dashes": (
        "dashes.md",
        b"---\ntitle: Dashes\nwebUrl: "
        + EDGE_URL.encode()
        + b"\n---\nIntro\n\n---\n\ntitle: not front matter\n---\nEnd\n",
        "Dashes",
        "Intro\n\n---\n\ntitle: not front matter\n---\nEnd\n",
    ),
}


@pytest.mark.parametrize(("name", "content", "title", "body"), EDGE_CASES.values(), ids=EDGE_CASES)
def test_accepted_edge_formats_import(archive, seed_dir, records, name, content, title, body):
    imported(archive, seed_dir)
    before = archive.snapshot()
    path = write(records, name, content)

    result = archive.run("import", str(records))

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "1 seen, 1 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert archive.rows("SELECT title, body, is_stub FROM article WHERE url = ?", EDGE_URL) == [
        (title, body, 0)
    ]
    assert archive.value("SELECT body FROM article WHERE url = ?", EDGE_URL) == body
    assert archive.value("SELECT text FROM source_file WHERE path = ?", str(path)) == (
        content.decode("utf-8")
    )
    assert_kept(before, archive.snapshot())


def test_the_file_size_limit_is_configurable(archive, records):
    body = "x" * 3000
    write(records, "big.md", record("https://example.com/big", body + "\n"))
    write(records, "small.md", record("https://example.com/small"))
    limit_mb = 2000 / (1024 * 1024)  # 2,000 bytes
    result = archive.run("import", "--max-file-size", f"{limit_mb:.9f}", str(records))
    assert result.exit_code == 1
    assert f"rejected: {records / 'big.md'}: file is larger than 2000 bytes" in result.output
    assert archive.rows("SELECT url FROM article") == [("https://example.com/small",)]
    # The default (10 MB) takes it.
    result = archive.run("import", str(records))
    assert result.exit_code == 0, result.output
    assert archive.count("article") == 2


def test_a_field_name_with_a_line_break_keeps_the_message_on_one_line() -> None:
    from archive.errors import RecordError
    from archive.ingest.records import parse_record

    text = b'---\nwebUrl: https://example.com/a\nimages:\n  - url: x\n    title: {"a\\rb": {0: 1}}\n---\n'
    with pytest.raises(RecordError) as caught:
        parse_record(text, "r.md")
    assert str(caught.value) == (
        "r.md:5: images[0].title['a\\rb']: field names must be text, got an integer 0"
    )
