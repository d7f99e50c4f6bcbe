"""The record format's one description (archive/record_format.py) agrees with the
schema, the views, `archive show` and what the importer stores (tests/test_docs.py checks
that docs/record-format.md has a row, with column and type, for each of its keys).

A new Field in the description is exercised by every test here without editing
them: the sample record below is built from the description itself.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from conftest import Archive, imported, write

from archive import record_format as fmt
from archive.store.models import tables

SAMPLES = {
    "text": lambda field: f"text of {field.key}",
    "url": lambda field: f"https://example.com/{field.key}",
    "timestamp": lambda field: "2020-08-17T18:08:00Z",
    "integer": lambda field: 7,
    "boolean": lambda field: True,
}


def _sample_record() -> dict:
    record = {field.key: SAMPLES[field.kind](field) for field in fmt.ARTICLE_FIELDS}
    record[fmt.PROVIDER_KEY] = {
        field.key: SAMPLES[field.kind](field) for field in fmt.PROVIDER_FIELDS
    }
    record[fmt.IMAGES_KEY] = [{field.key: SAMPLES[field.kind](field) for field in fmt.IMAGE_FIELDS}]
    record[fmt.TOPICS_KEY] = ["Sample"]
    return record


@pytest.fixture
def every_field(archive, records: Path) -> tuple[Archive, dict]:
    """An archive of one record with every described field, and that record."""
    record = _sample_record()
    write(records, "sample.md", "---\n" + yaml.safe_dump(record, sort_keys=False) + "---\nBody.\n")
    return imported(archive, records), record


def test_every_described_column_is_in_the_models_and_every_other_is_bookkeeping() -> None:
    assert {c.name for c in tables.article.columns} == {
        *fmt.ARTICLE_COLUMNS,
        *fmt.ARTICLE_BOOKKEEPING,
    }
    assert {f.column for f in fmt.PROVIDER_FIELDS} <= {c.name for c in tables.provider.columns}
    assert {f.column for f in fmt.IMAGE_FIELDS} <= {c.name for c in tables.image.columns}


def test_keys_and_columns_are_each_described_once() -> None:
    for fields in (fmt.ARTICLE_FIELDS, fmt.PROVIDER_FIELDS, fmt.IMAGE_FIELDS):
        assert len({f.key for f in fields}) == len(fields)
        assert len({f.column for f in fields}) == len(fields)


def test_each_described_field_lands_in_its_column(every_field) -> None:
    """Compared with PyYAML's reading of the file, field by field."""
    archive, record = every_field
    shown = json.loads(archive.run("show", record["webUrl"], "--format", "json").output)
    values = shown  # one object, keyed by field
    for field in fmt.ARTICLE_FIELDS:
        assert values[field.column] == record[field.key], field
    provider = archive.rows("SELECT name, domain FROM provider")
    assert provider == [tuple(record[fmt.PROVIDER_KEY][f.key] for f in fmt.PROVIDER_FIELDS)]
    image = archive.rows(f"SELECT {', '.join(f.column for f in fmt.IMAGE_FIELDS)} FROM image")
    assert image == [tuple(record[fmt.IMAGES_KEY][0][f.key] for f in fmt.IMAGE_FIELDS)]
    assert archive.value("SELECT extra FROM article") is None  # nothing described is "extra"


def test_keys_not_described_are_kept_as_extra(archive, records: Path) -> None:
    record = _sample_record()
    record["author"] = "Someone"
    record[fmt.IMAGES_KEY][0]["caption"] = "A caption"
    write(records, "a.md", "---\n" + yaml.safe_dump(record) + "---\n")
    assert archive.run("import", str(records)).exit_code == 0
    assert json.loads(archive.value("SELECT extra FROM article")) == {"author": "Someone"}
    assert json.loads(archive.value("SELECT extra FROM image")) == {"caption": "A caption"}


def test_show_lists_every_described_field_in_order_with_blobs_last(every_field) -> None:
    archive, record = every_field
    shown = json.loads(archive.run("show", record["webUrl"], "--format", "json").output)
    names = list(shown)
    readable = [f.column for f in fmt.ARTICLE_FIELDS if not f.blob]
    blobs = [f.column for f in fmt.ARTICLE_FIELDS if f.blob]
    assert names[1 : 1 + len(readable)] == readable
    assert all(names.index(blob) > names.index("topics") for blob in blobs)


def test_article_summary_shows_the_summary_fields(every_field) -> None:
    archive, _ = every_field
    connection = sqlite3.connect(archive.path)
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(article_summary)")}
    finally:
        connection.close()
    described = set(fmt.ARTICLE_COLUMNS)
    assert columns & described == {f.column for f in fmt.ARTICLE_FIELDS if f.summary}


def test_the_lossless_tests_independent_key_list_matches_the_description() -> None:
    """test_lossless keeps its own list on purpose (an oracle written apart from the
    code); this keeps the two from drifting apart."""
    from test_lossless import KNOWN_KEYS, RECORD_ONLY_KEYS

    assert KNOWN_KEYS == fmt.ARTICLE_KEYS
    assert KNOWN_KEYS | RECORD_ONLY_KEYS == fmt.RECORD_KEYS
