"""Fuzz the record parser: whatever the bytes, RecordError (one line, naming the file) or a Record.

No other exception may escape parse_record, and no input may hang it: every file
of an import goes through it, and one bad file must cost one rejection, never a
crash, a multi-line message or a stall. What bounds the parser's work on hostile
input (the depth, alias, expansion and size limits) is tested by the rejection
each limit gives, in tests/test_bad_input.py; here a hang guard only stops a
hang from stalling the run, since a time limit per input would fail on a loaded
machine as well as on a slow parser.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import HANG_SECONDS, Archive, hang_guard, record, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_checks import escaped

from archive.errors import RecordError
from archive.ingest import yamldoc, yamlfast
from archive.ingest.records import Record, parse_record, split_front_matter

SOURCE = "fuzz/some record.md"
# ARCHIVE_FUZZ_EXAMPLES=1000000 (with `timeout 600`) runs a long fuzz; CI runs a few.
EXAMPLES = int(os.environ.get("ARCHIVE_FUZZ_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(data: bytes) -> None:
    """parse_record returns a Record or raises a well-formed RecordError."""
    try:
        with hang_guard():
            result = parse_record(data, source=SOURCE)
    except RecordError as error:
        assert_one_clear_line(str(error), SOURCE)
    else:
        assert isinstance(result, Record)
        assert result.source == SOURCE


# Python's reprs of what a record can hold: a message writes values as YAML does.
PYTHON_REPR = re.compile(r"datetime\.(?:date|datetime|time)\(|timedelta\(|\bset\(|frozenset\(")


def assert_one_clear_line(message: str, source: str) -> None:
    """A printable line naming the file, without Python reprs, of bounded length."""
    assert message.isprintable(), f"message has control characters: {message!r}"
    assert message.startswith(source), f"message does not name the file: {message!r}"
    assert not PYTHON_REPR.search(message), f"message shows a Python repr: {message!r}"
    # The longest value shown is cut to 40 characters; YAML's own messages are short.
    assert len(message) < len(source) + 400, f"message is too long: {message!r}"


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data):
    check(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text(text):
    check(text.encode("utf-8", "surrogatepass"))


KNOWN_KEYS = [
    "webUrl", "ampWebUrl", "cdnAmpWebUrl", "title", "excerpt", "category", "type",
    "publishedDateTime", "quality", "heat", "published", "secured", "provider", "topics",
    "images", "related", "name", "domain", "url", "width", "height", "isCached",
]  # fmt: skip
TRICKY = [
    "a: b", "key: value: more", "# not a comment", "---", "...", "&a", "*a", "&a [1]",
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary AAAA",
    "<<", "? x", "- item", "|", ">", "{x: 1}", "[1, 2", "yes", "no", "on", "~", "null",
    "0x1F", "0o17", "012", "1_000", "1e5", ".inf", ".nan", "2020-08-17", "2020-08-17T18:08:00Z",
    "https://example.com/a?b=1#c", "http://", "https://", "https://www.x.com/amp/s",
    "https://a-b.cdn.ampproject.org/c/s/a.b/c", "é", "東京", "😀", "\u2028", "\x85", "\t",
    "\r\n", "\ufeff", "\\", '"', "'", "%TAG", "@", "`",
]  # fmt: skip
GOOD_URLS = st.builds(
    "{}://{}/{}".format,
    st.sampled_from(["https", "http", "HTTPS"]),
    st.sampled_from(["example.com", "www.Example.COM", "a-b.cdn.ampproject.org/c/s/a.b"]),
    st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), max_size=20),
)
URLS = st.integers(0, 9).flatmap(
    lambda n: GOOD_URLS if n else st.one_of(st.sampled_from(TRICKY), st.text(max_size=30))
)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12), st.integers(-5, 5))
TEXTS = st.one_of(st.text(max_size=40), st.sampled_from(TRICKY))
# What PyYAML's safe loader makes but a column or JSON cannot hold unchanged:
# sets (!!set), binary (!!binary), integers beyond 64 bits, timestamps at the ends
# of the calendar (their UTC may leave it).
UNSTORABLE = st.one_of(
    st.sets(st.one_of(st.integers(-3, 3), st.text(max_size=4)), max_size=3),
    st.binary(max_size=8),
    st.integers(min_value=2**63 - 2, max_value=2**90),
    st.integers(min_value=-(2**90), max_value=-(2**63) + 1),
    st.datetimes(min_value=dt.datetime(9998, 12, 31), timezones=st.just(dt.timezone(
        dt.timedelta(hours=-5)))),
    st.datetimes(max_value=dt.datetime(1, 1, 1, 3), timezones=st.just(dt.timezone(
        dt.timedelta(hours=5)))),
    st.dates(min_value=dt.date(9998, 12, 30)),
)  # fmt: skip
SCALARS = st.one_of(
    UNSTORABLE,
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.timezone(dt.timedelta(hours=-5)))),
    TEXTS,
    URLS,
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=5),
    ),
    max_leaves=25,
)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy = VALUES) -> st.SearchStrategy:
    """Nine times in ten `good` (a value of the right type), else `bad` (anything at all)."""
    return st.integers(0, 9).flatmap(lambda n: good if n else bad)


WHOLE = st.one_of(st.integers(-(2**70), 2**70), st.integers(0, 5000), UNSTORABLE)
IMAGE = st.fixed_dictionaries(
    {"url": mostly(URLS)},
    optional={
        "width": mostly(WHOLE),
        "height": mostly(WHOLE),
        "isCached": mostly(st.booleans()),
        "title": VALUES,
        "other": VALUES,
    },
)
PROVIDER = mostly(
    st.fixed_dictionaries({}, optional={"name": TEXTS, "domain": TEXTS, "images": VALUES})
)
ARTICLE_FIELDS = {
    "ampWebUrl": mostly(URLS),
    "cdnAmpWebUrl": mostly(URLS),
    "title": mostly(TEXTS),
    "excerpt": mostly(TEXTS),
    "type": mostly(TEXTS),
    "publishedDateTime": mostly(st.one_of(st.datetimes(), st.dates(), TEXTS, UNSTORABLE)),
    "quality": mostly(WHOLE),
    "heat": mostly(WHOLE),
    "published": mostly(st.booleans()),
    "secured": mostly(TEXTS),
    "provider": PROVIDER,
    "images": mostly(st.lists(IMAGE, max_size=3)),
}
RELATED = st.fixed_dictionaries(
    {"webUrl": mostly(URLS)}, optional={**ARTICLE_FIELDS, "relatedExtra": VALUES}
)
RECORDS = st.fixed_dictionaries(
    {"webUrl": mostly(URLS)},
    optional={
        **ARTICLE_FIELDS,
        "topics": mostly(st.lists(TEXTS, max_size=5)),
        "related": mostly(st.lists(RELATED, max_size=3)),
        "extraKey": VALUES,
        "another": VALUES,
    },
)
DOCUMENTS = mostly(RECORDS, st.one_of(st.dictionaries(KEYS, VALUES, max_size=8), VALUES))


@st.composite
def documents(draw) -> bytes:
    document = draw(DOCUMENTS)
    if isinstance(document, dict) and draw(st.booleans()):
        # The same object twice: safe_dump writes an anchor and aliases.
        shared = draw(RELATED)
        document["related"] = [shared, draw(RELATED), shared]
        image = draw(IMAGE)
        document["images"] = [image, image]
    options = {
        "allow_unicode": draw(st.booleans()),
        "default_flow_style": draw(st.sampled_from([False, True, None])),
        "width": draw(st.sampled_from([80, 20, 10**6])),
    }
    try:
        text = yaml.safe_dump(document, sort_keys=draw(st.booleans()), **options)
    except TypeError:  # keys of mixed types cannot be sorted
        text = yaml.safe_dump(document, sort_keys=False, **options)
    framing = draw(
        st.sampled_from(["bare", "front", "front-body", "unclosed", "bom-crlf", "front-crlf"])
    )
    if framing == "front":
        text = f"---\n{text}---\n"
    elif framing == "front-body":
        text = f"---\n{text}---\n" + draw(st.text(max_size=100))
    elif framing == "unclosed":
        text = f"---\n{text}"
    elif framing == "bom-crlf":
        text = "\ufeff---\r\n" + text.replace("\n", "\r\n") + "---\r\n"
    elif framing == "front-crlf":  # as a third of real files are written
        text = "---\r\n" + text.replace("\n", "\r\n") + "---\r\n"
    mutation = draw(st.sampled_from(["none", "none", "none", "truncate", "insert", "delete"]))
    if text and mutation == "truncate":
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif mutation == "insert":
        at = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(st.characters(), st.sampled_from(TRICKY)))
        text = text[:at] + piece + text[at:]
    elif text and mutation == "delete":
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + text[at + 1 :]
    return text.encode("utf-8", "surrogatepass")


@SETTINGS
@given(documents())
def test_structured_yaml_documents(data):
    check(data)


# Each example is a real import into a real database: fewer of them in CI.
IMPORT_SETTINGS = settings(
    SETTINGS, max_examples=int(os.environ.get("ARCHIVE_FUZZ_EXAMPLES", "30"))
)


@IMPORT_SETTINGS
@given(documents())
def test_a_generated_file_is_imported_or_rejected_alone(data):
    """Through the CLI into SQLite, between two good files: the generated file is
    imported or rejected with one line; never an internal error, and the good files
    are imported either way (values reach the writer's JSON and integer columns)."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        records = folder / "records"
        write(records, "a.md", record("https://example.com/fuzz-a"))
        generated = write(records, "b.md", data)
        write(records, "c.md", record("https://example.com/fuzz-c"))
        archive = Archive(folder / "fuzz.db")
        with hang_guard():
            result = archive.run("import", "--workers", "0", str(records))
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert result.exit_code in (0, 1), result.output
        rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected:")]
        if result.exit_code == 1:
            assert len(rejected) == 1, result.stderr
            assert_one_clear_line(rejected[0].removeprefix("rejected: "), str(generated))
        else:
            assert rejected == [], result.stderr
        urls = {url for (url,) in archive.rows("SELECT url FROM article WHERE is_stub = 0")}
        assert {"https://example.com/fuzz-a", "https://example.com/fuzz-c"} <= urls


def _same(a, b) -> bool:
    """Equality that also demands equal types (True == 1 in Python, not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return a == b


@SETTINGS
@given(documents())
def test_the_fast_yaml_path_reads_what_pyyaml_reads(data):
    """Differential: PyYAML's safe_dump writes every quoting style, folds long scalars
    over lines, writes [] and {}, and the framing adds CRLF; whatever the fast path
    takes must equal PyYAML's reading (yamldoc without the fast path)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    yaml_text, _, _ = split_front_matter(text.removeprefix("\ufeff"))
    try:
        fast = yamlfast.load(yaml_text)
    except yamlfast.Declined:
        return
    try:
        expected, _ = yamldoc.load(yaml_text, fast=False)
    except RecordError as error:
        raise AssertionError(
            f"PyYAML refuses ({error}) what the fast path read: {fast!r}"
        ) from None
    assert _same(fast, expected), f"fast {fast!r}\n!= PyYAML {expected!r}"


def test_python_tags_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    for tag in ("!!python/object/apply:pathlib.Path.touch", "!!python/object/new:pathlib.Path"):
        data = f'webUrl: "https://example.com/x"\ntitle: {tag} ["{marker}"]\n'.encode()
        try:
            parse_record(data, source=SOURCE)
        except RecordError as error:
            assert str(error).startswith(f"{SOURCE}:2:"), str(error)
        else:
            raise AssertionError(f"{tag} was accepted")
    assert not marker.exists()


@pytest.mark.parametrize(
    "line",
    [
        "publishedDateTime: 2020-02-30",  # a plain YAML date that is no day
        "publishedDateTime: 2020-01-01T25:00:00Z",
        "quality: !!int abc",  # explicit tags on scalars that are not of that type
        "published: !!bool maybe",
        "title: !!timestamp soon",
        'title: "\x01"',  # a control character PyYAML's reader refuses
    ],
)
def test_a_file_that_trips_the_yaml_loader_is_rejected_alone(archive, records, line):
    """What the fuzzer finds, end to end: one bad file is one rejection, not a crash."""
    write(records, "a.md", record("https://example.com/a"))
    bad = write(records, "b.md", f'---\nwebUrl: "https://example.com/b"\n{line}\n---\n')
    write(records, "c.md", record("https://example.com/c"))
    result = archive.run("import", "--workers", "0", str(records))
    assert isinstance(result.exception, SystemExit), escaped(result)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"rejected: {bad}:3:"), result.stderr
    assert lines[1:] == [
        "files: 3 seen, 2 new, 0 updated, 0 unchanged, 1 rejected",
        "added: 2 articles, 0 providers, 0 topics, 0 images",
    ], result.stderr
    assert archive.count("article") == 2


ATHERIS_HARNESS = textwrap.dedent(
    """
    import sys
    import atheris

    with atheris.instrument_imports():
        from archive.errors import RecordError
        from archive.ingest.records import parse_record

    def one(data):
        try:
            parse_record(data, source="fuzz.md")
        except RecordError as error:
            message = str(error)
            assert "\\n" not in message and message.startswith("fuzz.md"), message

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
    """
)


def test_atheris_coverage_guided_fuzz(tmp_path):
    """A short coverage-guided run of the parser with atheris (a test dependency)."""
    harness = tmp_path / "harness.py"
    harness.write_text(ATHERIS_HARNESS, encoding="utf-8")
    # libFuzzer's -timeout is per input and, like hang_guard, only catches a hang.
    result = subprocess.run(
        [
            sys.executable,
            str(harness),
            "-atheris_runs=5000",
            f"-timeout={HANG_SECONDS}",
            "-rss_limit_mb=2048",
        ],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-5000:]
