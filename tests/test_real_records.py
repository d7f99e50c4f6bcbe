"""Real record files (tests/fixtures/real/, see its README): videos without webUrl, CRLF
line endings, two files for one article, provider logos. Every check compares with
PyYAML's own reading of the files, not with hand-written expectations.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REAL, Archive

from archive.record_format import ARTICLE_FIELDS, IMAGE_FIELDS, PROVIDER_FIELDS

FILES = sorted(REAL.glob("*.md"))
# The sample's two files for one article (same webUrl, other title and date).
PAIR = (
    "2021-01-14-on-boarding-user-external-user-to-tenant-through-powerapps-portal.md",
    "2021-02-28-user-on-boarding-walkthrough-powerapps-portal-way.md",
)


def front_matter(path: Path) -> dict:
    """PyYAML's reading of a file's front matter, split apart from archive's code."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\r?\n(.*?\r?\n)---\r?(\n|$)", text, re.S)
    assert match, path
    return yaml.safe_load(match.group(1))


def first_extras(domain: str) -> dict | None:
    """A provider's keys beyond name and domain in the first file (in import order)
    that gives any: the ones its row keeps."""
    for data in map(front_matter, FILES):
        provider = data["provider"]
        extras = {k: v for k, v in provider.items() if k not in ("name", "domain")}
        if provider["domain"] == domain and extras:
            return extras
    return None


def address(data: dict) -> str:
    return data.get("webUrl") or data["originalUrl"]


def shown(archive: Archive, url: str) -> dict:
    result = archive.run("show", url, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # one object: `jq .title` reads it


def as_shown(value: object) -> object:
    """A YAML value as `archive show --format json` writes it."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Archive, str]:
    archive = Archive(tmp_path_factory.mktemp("real") / "real.db")
    result = archive.run("import", str(REAL))
    return archive, result.output


def test_the_sample_is_what_its_readme_says() -> None:
    assert len(FILES) == 28
    crlf = [path for path in FILES if b"\r\n" in path.read_bytes()]
    videos = [path for path in FILES if front_matter(path).get("type") == "video"]
    assert len(crlf) == 13
    assert videos and all("webUrl" not in front_matter(path) for path in videos)


def test_every_real_file_imports(imported) -> None:
    archive, output = imported
    assert "files: 28 seen, 28 new, 0 updated, 0 unchanged, 0 rejected" in output, output
    assert "merged: 1 file describes an article that another file also describes" in output
    assert archive.count("source_file") == 28


def test_dump_gives_every_file_back_byte_for_byte(imported, tmp_path) -> None:
    archive, _ = imported
    result = archive.run("dump", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    # dump writes the folder imported as a folder of its files (and the import order).
    dumped = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file() and p.name[0] != ".")
    assert [path.name for path in dumped] == [path.name for path in FILES]
    for path in dumped:
        assert path.read_bytes() == (REAL / path.name).read_bytes(), path.name


@pytest.mark.parametrize("path", [p for p in FILES if p.name != PAIR[0]], ids=lambda p: p.name[:40])
def test_each_field_is_where_pyyaml_says(imported, path: Path) -> None:
    archive, _ = imported
    data = front_matter(path)
    fields = shown(archive, address(data))
    for field in ARTICLE_FIELDS:
        expected = address(data) if field.column == "url" else data.get(field.key)
        assert fields[field.column] == as_shown(expected), field.key
    assert fields["topics"] == data["topics"]
    assert fields["source_file"] == str(path)
    provider = data["provider"]
    row = archive.rows(
        f"SELECT {', '.join(f.column for f in PROVIDER_FIELDS)}, extra FROM provider"
        " WHERE id = (SELECT provider_id FROM article WHERE id = ?)",
        fields["id"],
    )[0]
    assert row[:-1] == tuple(provider[f.key] for f in PROVIDER_FIELDS)
    assert (json.loads(row[-1]) if row[-1] else None) == first_extras(provider["domain"])
    images = archive.rows(
        f"SELECT {', '.join('i.' + f.column for f in IMAGE_FIELDS)} FROM article_image ai"
        " JOIN image i ON i.id = ai.image_id WHERE ai.article_id = ? ORDER BY ai.position",
        fields["id"],
    )
    assert images == [
        tuple(image.get(f.key) for f in IMAGE_FIELDS) for image in data.get("images") or []
    ]


def test_provider_logos_are_queryable_as_json(imported) -> None:
    archive, _ = imported
    logos = archive.rows(
        "SELECT p.domain, json_extract(logo.value, '$.url') FROM provider p,"
        " json_each(p.extra, '$.images') AS logo ORDER BY p.domain"
    )
    expected = {
        (data["provider"]["domain"], image["url"])
        for data in map(front_matter, FILES)
        for image in data["provider"].get("images", [])
    }
    assert set(logos) <= expected
    assert {domain for domain, _ in logos} == {domain for domain, _ in expected}


def test_two_files_for_one_article_show_the_last_and_keep_both(imported) -> None:
    archive, _ = imported
    first, last = (front_matter(REAL / name) for name in PAIR)
    assert address(first) == address(last)
    fields = shown(archive, address(first))
    assert fields["title"] == last["title"]
    assert fields["source_file"] == str(REAL / PAIR[1])
    assert fields["also_in_file"] == [str(REAL / PAIR[0])]


VIDEO_FORMS = (
    "https://youtu.be/{id}",
    "https://www.youtube.com/watch?v={id}&feature=share",
    "http://m.youtube.com/watch?v={id}",
    "https://www.youtube.com/embed/{id}",
)


def test_videos_are_found_under_any_form_of_their_youtube_url(imported) -> None:
    archive, _ = imported
    videos = [data for data in map(front_matter, FILES) if data["type"] == "video"]
    assert videos
    for data in videos:
        video_id = re.search(r"v=([\w-]{11})", data["originalUrl"]).group(1)
        article_id = shown(archive, data["originalUrl"])["id"]
        for form in VIDEO_FORMS:
            url = form.format(id=video_id)
            assert shown(archive, url)["id"] == article_id, url
            related = archive.run("related", url, "--format", "json")
            assert related.exit_code == 0, related.output


def test_reimporting_and_removing_a_file_change_nothing(imported, tmp_path) -> None:
    archive, _ = imported
    before = archive.snapshot()
    again = archive.run("import", str(REAL))
    assert "28 unchanged" in again.output, again.output
    assert archive.snapshot() == before
    fewer = tmp_path / "fewer"
    shutil.copytree(REAL, fewer)
    (fewer / PAIR[0]).unlink()
    archive_copy = Archive(tmp_path / "copy.db")
    assert archive_copy.run("import", str(fewer)).exit_code == 0
    restored = archive_copy.snapshot()
    (fewer / PAIR[0]).write_bytes((REAL / PAIR[0]).read_bytes())
    assert archive_copy.run("import", str(fewer)).exit_code == 0
    (fewer / PAIR[1]).unlink()
    result = archive_copy.run("import", str(fewer))
    assert "0 new, 0 updated, 27 unchanged, 0 rejected" in result.output, result.output
    assert archive_copy.snapshot() != restored  # the re-added file came in ...
    # ... and removing the other one from disk took nothing out of the archive.
    assert archive_copy.count("source_file") == 28


def _edited(text: str, version: int) -> str:
    """The same file as its site rewrote it later: other heat, quality and title."""
    text = re.sub(
        r"^(heat|quality): (\d+)", lambda m: f"{m[1]}: {int(m[2]) + version}", text, flags=re.M
    )
    return re.sub(
        r'^title: "(.*)"', lambda m: f'title: "{m[1]} (v{version})"', text, count=1, flags=re.M
    )


def test_many_versions_of_the_same_real_files_import_without_rejections(archive, tmp_path) -> None:
    """A collection's history: the same names edited over time, mostly videos."""
    folder = tmp_path / "history"
    folder.mkdir()
    videos = [p for p in FILES if front_matter(p)["type"] == "video"]
    names = videos + [p for p in FILES if p not in videos][:3]
    for version in range(4):
        for path in names:
            text = path.read_bytes().decode("utf-8")
            (folder / path.name).write_bytes(_edited(text, version).encode("utf-8"))
        result = archive.run("import", str(folder))
        assert result.exit_code == 0, result.output
        assert " 0 rejected" in result.output, result.output
    assert archive.count("source_file") == 4 * len(names)
    for path in names:
        data = yaml.safe_load(
            re.match(r"---\r?\n(.*?\r?\n)---", (folder / path.name).read_text(), re.S).group(1)
        )
        assert shown(archive, address(data))["title"] == data["title"]


def test_a_terminal_is_told_which_files_merged(tmp_path) -> None:
    from test_import_rules import on_a_terminal

    code, output = on_a_terminal(tmp_path / "t.db", "import", str(REAL))
    assert code == 0, output
    assert f"{REAL / PAIR[1]} after {REAL / PAIR[0]}" in output, output
