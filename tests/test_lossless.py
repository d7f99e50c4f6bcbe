"""Lossless: what goes in with `archive import` comes back out of `archive dump`, byte for byte.

Everything runs through the real CLI on a real database file. The property tests
generate batches of records shaped like the seed (unicode text, timestamps with
offsets, duplicate topics/images/related entries, unknown keys, bodies holding `---`
lines, CRLF, BOM) and check both the dump and the normalized tables.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from conftest import DATA, SEED, Archive, imported, write
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

UTC = dt.timezone.utc
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Keys the README maps to columns (or to topics/related); everything else is "extra".
KNOWN_KEYS = {
    "webUrl", "ampWebUrl", "cdnAmpWebUrl", "title", "excerpt", "category", "type",
    "publishedDateTime", "quality", "heat", "published", "secured", "provider", "images",
    "originalUrl", "featuredContent",
}  # fmt: skip
RECORD_ONLY_KEYS = {"topics", "related"}


# --------------------------------------------------------------------------- helpers


def split_record(text: str) -> tuple[str, str | None]:
    """(front matter, body) by the README's rule, written independently of archive's code.

    An opening `---` line; the next line that is exactly `---` (a CR before the newline
    allowed) closes it; the body is everything after that line.
    """
    content = text.removeprefix("\ufeff")
    lines = content.split("\n")
    if len(lines) < 2 or lines[0].rstrip("\r") != "---":
        return content, None
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r") == "---":
            return "\n".join(lines[1:i]) + "\n", "\n".join(lines[i + 1 :])
    return content, None


def normalize(value: Any) -> Any:
    """YAML values with every timestamp as a UTC instant, so offsets do not matter."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def front_matter(data: bytes) -> Any:
    yaml_text, _body = split_record(data.decode("utf-8"))
    return normalize(yaml.safe_load(yaml_text))


def clean_exit(result: Result) -> bool:
    """No traceback: the CLI ended by itself (exit code), not by an unexpected exception."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def utc_text(value: dt.datetime | str) -> str:
    """A timestamp as SQLite holds `published_at`: UTC, `YYYY-MM-DDTHH:MM:SSZ`."""
    stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_json(expected: Any, actual: Any) -> bool:
    """A YAML value against its JSON copy; timestamps may be ISO text, compared as instants."""
    if isinstance(expected, dt.datetime):
        return isinstance(actual, str) and normalize(dt.datetime.fromisoformat(actual)) == (
            normalize(expected)
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(same_json(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(same_json(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and expected == actual


def extra_of(mapping: dict[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in known}


def stored_json(text: str | None) -> Any:
    """An `extra` column: no extra keys may be SQL NULL or JSON null."""
    value = None if text is None else json.loads(text)
    return {} if value is None else value


def topic_key(name: str) -> str:
    """README identity for topics: trimmed, inner spaces collapsed, case-folded, in
    Unicode NFKC form (Unicode's compatibility caseless match)."""
    nfkc = unicodedata.normalize
    return " ".join(nfkc("NFKC", nfkc("NFKC", name).casefold()).split())


def domain_key(domain: str) -> str:
    """README identity for providers: domain lowercased, without a leading `www.`."""
    key = domain.strip().lower()
    return key.removeprefix("www.")


# --------------------------------------------------------------------------- generated records


@dataclass
class GenRecord:
    """One generated record file and what it says, for the checks."""

    name: str
    gid: int  # article identity: records with the same gid are the same article
    data: dict[str, Any]
    related_gids: list[int]
    raw: bytes = b""
    body: str = ""


@dataclass
class GenBatch:
    records: list[GenRecord] = field(default_factory=list)
    variants: dict[int, set[str]] = field(default_factory=dict)  # every URL written, per gid

    def winners(self) -> list[GenRecord]:
        """The record that is the authority on each article: the last one in import order."""
        last: dict[int, GenRecord] = {}
        for record in self.records:  # names sort in list order
            last[record.gid] = record
        return sorted(last.values(), key=lambda r: r.name)


SNIPPETS = [
    '"', "'", ": ", ":", "#", " #", "# ", "- ", "---", "...", "\n", "\n---\n", " ", "  ",
    "\t", "\r\n", "\\", "😀", "🇫🇷", "👩‍💻", "é", "ß", "İ", "中文", "null", "~", "yes", "No",
    "2020", "0x1F", "1e3", "&a", "*a", "!!python/object:os.system", "%", "@", "`", "{", "}",
    "[", "]", ",", "|", ">", "?", "\u2028", "\u00a0", "\u200b",
]  # fmt: skip
CHARS = st.characters(codec="utf-8", exclude_characters="\x00\x85")


def _yaml_carries(text: str) -> bool:
    for newline in ("\n", "\r\n"):
        doc = {"k": [text], "m": {"n": text}}
        dumped = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        if yaml.safe_load(dumped.replace("\n", newline)) != doc:
            return False
    return True


texts = (
    st.lists(st.one_of(st.text(CHARS, max_size=6), st.sampled_from(SNIPPETS)), max_size=6)
    .map("".join)
    .filter(_yaml_carries)
)
offsets = st.one_of(
    st.just(UTC),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
)
stamps = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 12, 30), timezones=offsets
)


def _iso(stamp: dt.datetime, zulu: bool) -> str:
    text = stamp.isoformat()
    return text[:-6] + "Z" if zulu and text.endswith("+00:00") else text


published_values = st.one_of(
    stamps,  # a YAML timestamp
    st.builds(_iso, stamps, st.booleans()),  # a quoted string, as in example_03
)
ints = st.one_of(st.integers(-1, 100), st.integers(-(2**63), 2**63 - 1))
secured_values = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=;", max_size=80
)
HOSTS = ["news.example.com", "example.org", "www.example.net", "Blog.Example.IO"]
DOMAINS = ["example.com", "news.example.org", "example.net", "gothamist.com"]
TOPICS = ["AI", "ai", " Computer  Vision ", "computer vision", "", "  ", "Privacy", "Straße"]
LOCALES = ["fr-FR", "en-US", "de"]


_ABSENT = object()


def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy, p_absent: float = 0.4) -> Any:
    """A value, or `_ABSENT` (key left out), or now and then an explicit null."""
    roll = draw(st.integers(0, 99))
    if roll < p_absent * 100:
        return _ABSENT
    if roll < p_absent * 100 + 5:
        return None
    return draw(strategy)


class _Urls:
    """URLs per article identity (gid): many spellings of one article, never two articles."""

    def __init__(self, draw: st.DrawFn, batch: GenBatch) -> None:
        self.draw = draw
        self.batch = batch
        self.paths: dict[int, tuple[str, str]] = {}

    def _base(self, gid: int) -> tuple[str, str]:
        if gid not in self.paths:
            host = self.draw(st.sampled_from(HOSTS))
            slug = self.draw(st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12))
            # The gid in its own path segment is what keeps two articles apart.
            self.paths[gid] = (host.lower().removeprefix("www."), f"/news/story-{gid}/{slug}")
        return self.paths[gid]

    def web(self, gid: int) -> str:
        host, path = self._base(gid)
        draw = self.draw
        if draw(st.booleans()):
            host = "www." + host
        host = draw(st.sampled_from([host, host, host.upper(), host.title()]))
        scheme = draw(st.sampled_from(["https", "https", "https", "http"]))
        suffix = draw(
            st.sampled_from(["", "", "/", "#comments", "?utm_source=feed", "/?utm_medium=x#top"])
        )
        url = f"{scheme}://{host}{path}{suffix}"
        self.batch.variants.setdefault(gid, set()).add(url)
        return url

    def amp(self, gid: int) -> str:
        host, path = self._base(gid)
        return f"https://{host}{path}" + self.draw(st.sampled_from(["?amp=1", "/amp/"]))

    def cdn_amp(self, gid: int) -> str:
        host, path = self._base(gid)
        return f"https://{host.replace('.', '-')}.cdn.ampproject.org/c/s/{host}{path}"


def _permuted(draw: st.DrawFn, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    pairs = [(k, v) for k, v in pairs if v is not _ABSENT]
    webs = [p for p in pairs if p[0] == "webUrl"]
    rest = draw(st.permutations([p for p in pairs if p[0] != "webUrl"]))
    at = draw(st.integers(0, len(rest)))
    return dict([*rest[:at], *webs, *rest[at:]])


@st.composite
def image_lists(draw: st.DrawFn, counter: itertools.count) -> list[dict[str, Any]]:
    images: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        if images and draw(st.integers(0, 3)) == 0:
            again = draw(st.sampled_from(images))
            # The same entry twice: the same object (a YAML alias) or an equal copy.
            images.append(again if draw(st.booleans()) else dict(again))
            continue
        shared = draw(st.booleans())
        url = (
            f"https://img.example.com/shared/{draw(st.integers(0, 2))}.jpg"
            if shared
            else f"https://img.example.com/u/{next(counter)}.jpg?w=1200&q=90"
        )
        pairs = [
            ("url", url),
            ("width", _maybe(draw, st.integers(0, 10_000), 0.2)),
            ("height", _maybe(draw, st.integers(0, 10_000), 0.2)),
            ("isCached", _maybe(draw, st.booleans(), 0.2)),
            ("title", _maybe(draw, texts, 0.7)),
            ("attribution", _maybe(draw, texts, 0.7)),
            ("tags", _maybe(draw, st.lists(texts, max_size=3), 0.8)),
        ]
        images.append({k: v for k, v in pairs if v is not _ABSENT})
    return images


@st.composite
def providers(draw: st.DrawFn) -> dict[str, Any]:
    domain = draw(st.sampled_from(DOMAINS))
    if draw(st.booleans()):
        domain = "www." + domain
    domain = draw(st.sampled_from([domain, domain.upper(), domain.title()]))
    return {
        "name": draw(st.one_of(st.sampled_from(["Gothamist", "The Star"]), texts)),
        "domain": domain,
    }


def _related_entry(draw: st.DrawFn, urls: _Urls, gid: int, counter: itertools.count) -> dict:
    pairs = [
        ("title", _maybe(draw, texts)),
        ("excerpt", _maybe(draw, texts)),
        ("publishedDateTime", _maybe(draw, published_values)),
        ("webUrl", urls.web(gid)),
        ("ampWebUrl", _maybe(draw, st.just(urls.amp(gid)), 0.7)),
        ("type", _maybe(draw, st.sampled_from(["article", "video"]))),
        ("provider", _maybe(draw, providers(), 0.3)),
        ("quality", _maybe(draw, ints)),
        ("images", _maybe(draw, image_lists(counter), 0.3)),
        ("locale", _maybe(draw, st.sampled_from(LOCALES), 0.8)),
        ("tags", _maybe(draw, st.lists(texts, max_size=3), 0.8)),
        ("updatedDateTime", _maybe(draw, stamps, 0.8)),
        ("attribution", _maybe(draw, texts, 0.8)),
    ]
    return _permuted(draw, pairs)


def _body(draw: st.DrawFn) -> str | None:
    if draw(st.booleans()):
        return None
    lines = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["---", "", "# Heading", "--- ", "----", "...", "title: x"]),
                st.text(st.characters(codec="utf-8", exclude_characters="\x00\n"), max_size=20),
            ),
            max_size=6,
        )
    )
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@st.composite
def batches(draw: st.DrawFn) -> GenBatch:
    batch = GenBatch()
    urls = _Urls(draw, batch)
    counter = itertools.count(1)  # gids and image numbers: unique within the batch
    n = draw(st.integers(1, 5))
    own_gids: list[int] = []
    for _ in range(n):
        # Now and then deliberately the same article again (another spelling of its URL).
        if own_gids and draw(st.integers(0, 5)) == 0:
            own_gids.append(draw(st.sampled_from(own_gids)))
        else:
            own_gids.append(next(counter))
    shared_stubs = [next(counter), next(counter)]
    for i, gid in enumerate(own_gids):
        related: list[dict[str, Any]] = []
        related_gids: list[int] = []
        for _ in range(draw(st.integers(0, 4) if draw(st.booleans()) else st.just(0))):
            kind = draw(st.sampled_from(["new", "shared", "own", "again"]))
            if kind == "again" and related:
                j = draw(st.integers(0, len(related) - 1))
                # The same related article twice: the same object, a copy, or another spelling.
                how = draw(st.sampled_from(["alias", "copy", "respelled"]))
                if how == "respelled":
                    entry = _related_entry(draw, urls, related_gids[j], counter)
                else:
                    entry = related[j] if how == "alias" else json_copy(related[j])
                related.append(entry)
                related_gids.append(related_gids[j])
                continue
            if kind == "shared":  # a stub other records name too
                target = draw(st.sampled_from(shared_stubs))
            elif kind == "own":  # an article with its own record, maybe this one
                target = draw(st.sampled_from(own_gids))
            else:  # an article known only from this entry
                target = next(counter)
            related.append(_related_entry(draw, urls, target, counter))
            related_gids.append(target)
        topics = draw(
            st.lists(st.one_of(st.sampled_from(TOPICS), texts), max_size=6).map(
                lambda ts: ts + ts[:1] if ts else ts  # a duplicate for good measure
            )
        )
        pairs = [
            ("category", _maybe(draw, st.one_of(st.just("news"), texts))),
            ("title", _maybe(draw, texts, 0.1)),
            ("excerpt", _maybe(draw, texts, 0.2)),
            ("publishedDateTime", _maybe(draw, published_values, 0.1)),
            ("webUrl", urls.web(gid)),
            ("ampWebUrl", _maybe(draw, st.just(urls.amp(gid)), 0.6)),
            ("cdnAmpWebUrl", _maybe(draw, st.just(urls.cdn_amp(gid)), 0.7)),
            ("type", _maybe(draw, st.one_of(st.just("article"), texts))),
            ("quality", _maybe(draw, ints, 0.2)),
            ("heat", _maybe(draw, ints, 0.3)),
            ("published", _maybe(draw, st.booleans(), 0.3)),
            ("provider", _maybe(draw, providers(), 0.2)),
            ("topics", _maybe(draw, st.just(topics), 0.2)),
            ("images", _maybe(draw, image_lists(counter), 0.2)),
            ("related", related if related else _ABSENT),
            ("secured", _maybe(draw, secured_values, 0.3)),
            ("locale", _maybe(draw, st.one_of(st.sampled_from(LOCALES), texts), 0.6)),
            ("tags", _maybe(draw, st.lists(texts, max_size=4), 0.6)),
            ("updatedDateTime", _maybe(draw, stamps, 0.6)),
            ("attribution", _maybe(draw, texts, 0.7)),
            ("categories", _maybe(draw, st.lists(st.sampled_from(["Tech", "Politics"])), 0.8)),
        ]
        data = _permuted(draw, pairs)
        body = _body(draw)
        text = "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        if body is not None:
            text += "---\n" + body
        else:
            text += draw(st.sampled_from(["---\n", "---"]))  # README: closing `---` at EOF
        if draw(st.integers(0, 3)) == 0:
            text = text.replace("\n", "\r\n")
        if draw(st.integers(0, 3)) == 0:
            text = "\ufeff" + text
        ext = draw(st.sampled_from(["md", "txt", "yaml", "yml"]))
        record = GenRecord(f"{i:02d}_record.{ext}", gid, data, related_gids, text.encode("utf-8"))
        fm, record.body = split_record(text)
        # The file says what we meant it to say (else it is the generator's fault).
        assume(record.body is not None and normalize(yaml.safe_load(fm)) == normalize(data))
        batch.records.append(record)
    # A file whose content was already imported is skipped by design (README "Incremental"),
    # so two byte-identical files in one batch would not both be records: keep them distinct.
    assume(len({r.raw for r in batch.records}) == len(batch.records))
    return batch


def json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def import_batch(tmp: str, batch: GenBatch) -> tuple[Archive, Result]:
    folder = Path(tmp) / "records"
    folder.mkdir()
    for record in batch.records:
        write(folder, record.name, record.raw)
    archive = Archive(Path(tmp) / "test.db")
    return archive, archive.run("import", str(folder))


# --------------------------------------------------------------------------- 1. real files


def dump_files(archive: Archive, out: Path) -> dict[str, bytes]:
    result = archive.run("dump", str(out))
    assert result.exit_code == 0, result.output
    assert clean_exit(result), result.output
    return {
        p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")
    }


def test_seed_dumps_back_byte_identical(archive, seed_dir, tmp_path):
    result = archive.run("import", str(seed_dir))
    assert result.exit_code == 0, result.output
    dumped = dump_files(archive, tmp_path / "out")
    assert dumped == {SEED.name: SEED.read_bytes()}


def test_every_sample_file_dumps_back_byte_identical(archive, records, tmp_path):
    sources = {p.name: p.read_bytes() for p in DATA.iterdir() if p.is_file() and p.name != "README"}
    assert len(sources) >= 13
    for name, data in sources.items():
        write(records, name, data)
    result = archive.run("import", str(records))
    assert result.exit_code == 0, result.output
    dumped = dump_files(archive, tmp_path / "out")
    assert sorted(dumped) == sorted(sources)
    for name, data in sources.items():
        assert dumped[name] == data, name


def test_same_article_in_two_files_dumps_both(archive, records, tmp_path):
    first = "---\ntitle: First\nwebUrl: https://example.com/news/a-1\n---\nOld body.\n"
    second = (
        "---\r\ntitle: Second\r\nwebUrl: http://www.EXAMPLE.com/news/a-1/?utm_source=x#c\r\n"
        "---\r\n---\r\nNew body.\r\n"
    )
    write(records, "01_first.md", first)
    write(records, "02_second.md", second)
    result = archive.run("import", str(records))
    assert result.exit_code == 0, result.output
    assert archive.rows("SELECT title, body FROM article") == [("Second", "---\r\nNew body.\r\n")]
    assert dump_files(archive, tmp_path / "out") == {
        "01_first.md": first.encode(),
        "02_second.md": second.encode(),
    }


def test_a_file_whose_address_changes_in_place_keeps_one_article(archive, records, tmp_path):
    """The article follows its file: the old address becomes an alias that still
    finds it, nothing is counted twice, and dump writes the one file."""
    first = "---\ntitle: First\nwebUrl: https://example.com/news/first\ntopics: [T]\n---\n"
    other = "---\ntitle: Other\nwebUrl: https://example.com/news/other\ntopics: [T]\n---\n"
    write(records, "a.md", first)
    assert archive.run("import", str(records)).exit_code == 0
    write(records, "a.md", other)
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT url, title FROM article") == [
        ("https://example.com/news/other", "Other")
    ]
    assert archive.rows("SELECT count(*) FROM article_topic") == [(1,)]
    shown = archive.run("show", "https://example.com/news/first")
    assert shown.exit_code == 0 and "Other" in shown.output, shown.output
    dumped = dump_files(archive, tmp_path / "out")
    assert list(dumped.values()) == [other.encode()]


def test_an_old_address_claimed_by_another_file_moves_to_it(archive, records):
    first = "---\ntitle: First\nwebUrl: https://example.com/news/first\n---\n"
    write(records, "a.md", first)
    assert archive.run("import", str(records)).exit_code == 0
    write(records, "a.md", first.replace("news/first", "news/moved"))
    assert archive.run("import", str(records)).exit_code == 0
    write(records, "b.md", first.replace("First", "Claimed"))
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows("SELECT url, title FROM article ORDER BY id") == [
        ("https://example.com/news/moved", "First"),
        ("https://example.com/news/first", "Claimed"),
    ]
    shown = archive.run("show", "https://example.com/news/first")
    assert "Claimed" in shown.output, shown.output


# --------------------------------------------------------------------------- 2. property: dump


@PROPERTY
@given(batch=batches())
def test_generated_records_dump_back_byte_identical(batch):
    with tempfile.TemporaryDirectory() as tmp:
        archive, result = import_batch(tmp, batch)
        assert result.exit_code == 0, result.output
        assert clean_exit(result), result.output
        dumped = dump_files(archive, Path(tmp) / "out")
    # Every file comes back, also those whose article another file describes later.
    assert sorted(dumped) == sorted(r.name for r in batch.records)
    for record in batch.records:
        got = dumped[record.name]
        assert front_matter(got) == front_matter(record.raw), record.name
        assert split_record(got.decode("utf-8"))[1] == record.body, record.name
        assert got == record.raw, record.name


# --------------------------------------------------------------------------- 3. property: tables


ARTICLE_COLUMNS = (
    "id, url, title, excerpt, category, type, quality, heat, published, published_at, secured,"
    " amp_url, cdn_amp_url, body, extra, provider_id, is_stub"
)


def _article(archive: Archive, where: str, *params: object) -> dict[str, Any]:
    rows = archive.rows(f"SELECT {ARTICLE_COLUMNS} FROM article WHERE {where}", *params)
    assert len(rows) == 1, (where, params, rows)
    return dict(zip([c.strip() for c in ARTICLE_COLUMNS.split(",")], rows[0], strict=True))


def _expected_fields(data: dict[str, Any]) -> dict[str, Any]:
    published = data.get("published")
    stamp = data.get("publishedDateTime")
    return {
        "url": data["webUrl"],
        "title": data.get("title"),
        "excerpt": data.get("excerpt"),
        "category": data.get("category"),
        "type": data.get("type"),
        "quality": data.get("quality"),
        "heat": data.get("heat"),
        "published": None if published is None else int(published),
        "published_at": None if stamp is None else utc_text(stamp),
        "secured": data.get("secured"),
        "amp_url": data.get("ampWebUrl"),
        "cdn_amp_url": data.get("cdnAmpWebUrl"),
    }


def _image_urls(archive: Archive, article_id: int) -> list[str]:
    return [
        url
        for (url,) in archive.rows(
            "SELECT i.url FROM article_image ai JOIN image i ON i.id = ai.image_id"
            " WHERE ai.article_id = ? ORDER BY ai.position",
            article_id,
        )
    ]


def _provider_key(archive: Archive, provider_id: int | None) -> str | None:
    if provider_id is None:
        return None
    return archive.value("SELECT key FROM provider WHERE id = ?", provider_id)


@PROPERTY
@given(batch=batches())
def test_generated_records_land_in_normalized_tables(batch):
    with tempfile.TemporaryDirectory() as tmp:
        archive, result = import_batch(tmp, batch)
        assert result.exit_code == 0, result.output
        assert clean_exit(result), result.output
        check_tables(archive, batch)


def check_tables(archive: Archive, batch: GenBatch) -> None:
    winners = batch.winners()
    own_gids = {r.gid for r in winners}

    # How often each image URL occurs anywhere in the batch, and each topic's first spelling.
    image_uses: dict[str, int] = {}
    first_spelling: dict[str, str] = {}
    for record in batch.records:
        for image in record.data.get("images") or []:
            image_uses[image["url"]] = image_uses.get(image["url"], 0) + 1
        for entry in record.data.get("related") or []:
            for image in entry.get("images") or []:
                image_uses[image["url"]] = image_uses.get(image["url"], 0) + 1
        for name in record.data.get("topics") or []:
            if name.strip():
                first_spelling.setdefault(topic_key(name), name.strip())

    # Each article's own record: its row says exactly what the record says.
    own_ids: dict[int, int] = {}
    for record in winners:
        data = record.data
        row = _article(archive, "url = ? AND is_stub = 0", data["webUrl"])
        own_ids[record.gid] = row["id"]
        expected = _expected_fields(data)
        assert {k: row[k] for k in expected} == expected, record.name
        assert row["body"] == record.body, record.name
        extra = extra_of(data, KNOWN_KEYS | RECORD_ONLY_KEYS)
        assert same_json(extra, stored_json(row["extra"])), (record.name, row["extra"])
        provider = data.get("provider")
        assert _provider_key(archive, row["provider_id"]) == (
            None if provider is None else domain_key(provider["domain"])
        ), record.name

        # Topics: distinct by identity, blanks skipped, in order; display = first spelling.
        keys: list[str] = []
        for name in data.get("topics") or []:
            if name.strip() and topic_key(name) not in keys:
                keys.append(topic_key(name))
        topics = archive.rows(
            "SELECT t.key, t.name FROM article_topic at JOIN topic t ON t.id = at.topic_id"
            " WHERE at.article_id = ? ORDER BY at.position",
            row["id"],
        )
        assert topics == [(k, first_spelling[k]) for k in keys], record.name

        # Images in order, duplicates kept; an image used once anywhere has its own values.
        images = data.get("images") or []
        assert _image_urls(archive, row["id"]) == [i["url"] for i in images], record.name
        for image in images:
            if image_uses[image["url"]] != 1:
                continue
            width, height, cached, extra_text = archive.rows(
                "SELECT width, height, is_cached, extra FROM image WHERE url = ?", image["url"]
            )[0]
            cached_expected = image.get("isCached")
            assert (width, height, cached) == (
                image.get("width"),
                image.get("height"),
                None if cached_expected is None else int(cached_expected),
            ), image
            image_extra = extra_of(image, {"url", "width", "height", "isCached"})
            assert same_json(image_extra, stored_json(extra_text)), (image, extra_text)

    # Related links in order; one article per identity, however its URL is spelled.
    linked: dict[int, int] = {}
    for record in winners:
        targets = [
            target
            for (target,) in archive.rows(
                "SELECT related_article_id FROM related_link WHERE article_id = ?"
                " ORDER BY position",
                own_ids[record.gid],
            )
        ]
        assert len(targets) == len(record.related_gids), record.name
        for gid, target in zip(record.related_gids, targets, strict=True):
            assert linked.setdefault(gid, target) == target, (record.name, gid)
            if gid in own_ids:
                assert target == own_ids[gid], (record.name, gid)
    assert len(set(linked.values())) == len(linked), "two identities share one article row"
    stub_gids = set(linked) - own_gids
    for gid in stub_gids:
        row = _article(archive, "id = ?", linked[gid])
        assert row["is_stub"] == 1 and row["url"] in batch.variants[gid], (gid, row)

    # Exactly the own articles plus the stubs some current record still names.
    assert archive.count("article") == len(own_gids) + len(stub_gids)
    assert archive.value("SELECT count(*) FROM article WHERE is_stub = 0") == len(own_gids)

    # A stub named only by current records: the first entry gives the fields, later ones fill in.
    entries: dict[int, list[dict[str, Any]]] = {}
    superseded: set[int] = set()
    winner_names = {r.name for r in winners}
    for record in batch.records:
        for gid, entry in zip(record.related_gids, record.data.get("related") or [], strict=True):
            entries.setdefault(gid, []).append(entry)
            if record.name not in winner_names:
                superseded.add(gid)
    for gid in stub_gids - superseded:
        row = _article(archive, "id = ?", linked[gid])
        offered = [_expected_fields(entry) for entry in entries[gid]]
        for column in offered[0]:
            value = next((o[column] for o in offered if o[column] is not None), None)
            assert row[column] == value, (gid, column, entries[gid])
        first_images = next((e["images"] for e in entries[gid] if e.get("images")), [])
        assert _image_urls(archive, linked[gid]) == [i["url"] for i in first_images], gid


# --------------------------------------------------------------------------- 4. --force


def test_dump_refuses_to_overwrite_an_existing_file_without_force(archive, seed_dir, tmp_path):
    imported(archive, seed_dir)
    out = tmp_path / "out"
    # dump writes each collection (the folder imported) as a folder of its files.
    existing = write(out / seed_dir.name, SEED.name, b"someone else's file\n")

    refused = archive.run("dump", str(out))
    assert refused.exit_code == 6, refused.output  # the output cannot be written
    assert clean_exit(refused), refused.output
    assert "Traceback" not in refused.output
    message = refused.output.strip()
    assert message.startswith("error:") and "\n" not in message, message
    assert str(existing) in message and "already exists" in message and "--force" in message
    assert existing.read_bytes() == b"someone else's file\n"

    forced = archive.run("dump", "--force", str(out))
    assert forced.exit_code == 0, forced.output
    assert existing.read_bytes() == SEED.read_bytes()


def test_dump_into_a_folder_it_already_filled_needs_force(archive, seed_dir, tmp_path):
    imported(archive, seed_dir)
    out = tmp_path / "out"
    assert archive.run("dump", str(out)).exit_code == 0
    again = archive.run("dump", str(out))
    assert again.exit_code == 6 and "--force" in again.output, again.output
    assert (out / seed_dir.name / SEED.name).read_bytes() == SEED.read_bytes()
    assert archive.run("dump", "--force", str(out)).exit_code == 0
    assert [p.name for p in (out / seed_dir.name).iterdir()] == [SEED.name]


# --------------------------------------------------------------------------- found on the way


def _minimal(url: str, title: str) -> str:
    return f"---\ntitle: {title}\nwebUrl: {url}\n---\nBody of {title}.\n"


def test_dump_writes_every_record_when_a_renamed_name_clashes_with_a_real_one(archive, tmp_path):
    """Two `x.md` records: the second is written as `<id>_x.md`, which must not clobber a
    record whose own file is really called `<id>_x.md`."""
    src = tmp_path / "src"
    b = write(src / "b", "x.md", _minimal("https://example.com/b", "B"))
    assert archive.run("import", str(b)).exit_code == 0
    a_first = write(src / "a", "first.md", _minimal("https://example.com/a", "A"))
    assert archive.run("import", str(a_first)).exit_code == 0
    c = write(src / "c", "x.md", _minimal("https://example.com/c", "C"))
    assert archive.run("import", str(c)).exit_code == 0
    c_id = archive.value("SELECT id FROM source_file WHERE path = ?", str(c))
    # A's record moves to a file named like the renamed copy of c/x.md will be.
    a = write(src / "a", f"{c_id}_x.md", _minimal("https://example.com/a", "A2"))
    assert archive.run("import", str(a)).exit_code == 0

    out = tmp_path / "out"
    result = archive.run("dump", str(out))
    assert result.exit_code == 0, result.output
    dumped = sorted(p.read_bytes() for p in out.rglob("*.md"))
    # Every file, also first.md, which another file now also describes.
    assert dumped == sorted(p.read_bytes() for p in (a_first, a, b, c))


def test_a_file_changed_back_to_an_earlier_content_is_applied_again(archive, records, tmp_path):
    """X, then Y, then X again: the archive and its dump must say X, as the file does now."""
    x = _minimal("https://example.com/one", "X")
    y = _minimal("https://example.com/one", "Y")
    for text in (x, y, x):
        path = write(records, "f.md", text)
        result = archive.run("import", str(records))
        assert result.exit_code == 0, result.output
    assert archive.rows("SELECT title FROM article") == [("X",)]
    assert dump_files(archive, tmp_path / "out") == {"f.md": path.read_bytes()}


@pytest.mark.parametrize(
    ("line", "field_name"),
    [
        ("quality: 99999999999999999999", "quality"),
        ("heat: -99999999999999999999", "heat"),
        ("publishedDateTime: 0001-01-01T00:30:00+01:00", "publishedDateTime"),
        ("publishedDateTime: 9999-12-31T23:30:00-01:00", "publishedDateTime"),
    ],
)
def test_a_value_sqlite_cannot_hold_rejects_the_file_instead_of_crashing(
    archive, records, line, field_name
):
    """Found while writing the property tests (which keep to 64-bit ints and years 1900-2100)."""
    write(records, "a_good.md", _minimal("https://example.com/good", "Good"))
    write(records, "b_bad.md", f"---\nwebUrl: https://example.com/bad\n{line}\n---\n")
    result = archive.run("import", str(records))
    assert clean_exit(result), f"crashed: {result.exception!r}"
    assert result.exit_code == 1, result.output
    assert any("b_bad.md" in out and field_name in out for out in result.output.splitlines()), (
        result.output
    )
    assert archive.rows("SELECT url FROM article") == [("https://example.com/good",)]
