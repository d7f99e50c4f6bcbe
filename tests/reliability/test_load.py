"""A load test at a size CI can afford: 20,000 generated records, about 70,000 articles.

The 100,000-record run (and beyond) is done by benchmarks/run.py and its results
are reported by hand; this test checks, at a fifth of that, that a large import
completes, that re-importing changes nothing, and that exports hold every row.
"""

from __future__ import annotations

import csv
import json

from reliability_checks import (
    assert_sound,
    counts,
    generate,
    rows,
    run_archive,
    table_hash,
)

FILES = 20_000


def test_twenty_thousand_records_import_reimport_and_export(tmp_path):
    folder = tmp_path / "records"
    generate(folder, FILES)
    db = tmp_path / "load.db"

    result = run_archive(db, "import", str(folder), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"files: {FILES} seen, {FILES} new, 0 updated, 0 unchanged, 0 rejected" in result.stderr
    assert_sound(db)
    assert rows(db, "SELECT count(*) FROM article WHERE is_stub = 0") == [(FILES,)]
    before = counts(db)
    article_hash = table_hash(db, "SELECT * FROM article ORDER BY id")

    result = run_archive(db, "import", str(folder), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.splitlines() == [
        f"files: {FILES} seen, 0 new, 0 updated, {FILES} unchanged, 0 rejected",
        "added: 0 articles, 0 providers, 0 topics, 0 images",
    ]
    assert counts(db) == before
    assert table_hash(db, "SELECT * FROM article ORDER BY id") == article_hash

    expected = rows(db, "SELECT count(*) FROM article_summary")[0][0]
    assert expected == before["article"]

    out_csv = tmp_path / "out.csv"
    result = run_archive(db, "export", "article_summary", "--format", "csv", "-o", str(out_csv))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote {expected} rows to {out_csv}"
    with open(out_csv, newline="", encoding="utf-8") as stream:
        table = list(csv.reader(stream))
    assert table[0][:3] == ["id", "url", "title"]
    assert all(len(row) == len(table[0]) for row in table)
    assert len(table) - 1 == expected

    out_jsonl = tmp_path / "out.jsonl"
    result = run_archive(db, "export", "article_summary", "--format", "jsonl", "-o", str(out_jsonl))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote {expected} rows to {out_jsonl}"
    with open(out_jsonl, encoding="utf-8") as stream:
        lines = stream.read().split("\n")
    assert lines[-1] == ""  # every line ends with a newline, and there is no blank one
    objects = [json.loads(line) for line in lines[:-1]]
    assert len(objects) == expected
    assert len({obj["id"] for obj in objects}) == expected
