"""Parquet output (issue 21): typed columns that pandas and DuckDB read back with the
same rows as the CSV export, an install hint without pyarrow, and no silent CSV
under an unknown extension. Through the real CLI on the sample and real records."""

from __future__ import annotations

import json
import sys

import duckdb
import numpy
import pandas
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, REAL, imported, one_error_line


@pytest.fixture(params=["data", "real"])
def source(request, archive):
    return imported(archive, DATA if request.param == "data" else REAL)


def as_csv_text(value) -> str:
    """A value read from Parquet, written as the README says CSV writes it."""
    if value is None or value is pandas.NA or value is pandas.NaT:
        return ""
    if isinstance(value, (bool, numpy.bool_)):
        return "true" if value else "false"
    if isinstance(value, pandas.Timestamp):
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "tolist"):  # a list column comes back as a numpy array
        value = value.tolist()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@pytest.mark.parametrize(
    "args",
    [
        ["export", "article_summary"],
        ["export", "article"],
        ["export", "--query", "SELECT * FROM topic_article ORDER BY topic, article_id"],
        ["articles", "--include-stubs"],
        ["providers"],
        ["timeline", "--topic", "AI", "--topic", "Privacy", "--compare", "--since", "2018"],
    ],
)
def test_pandas_reads_the_same_rows_as_csv(source, tmp_path, args):
    parquet, csv = tmp_path / "out.parquet", tmp_path / "out.csv"
    for target in (parquet, csv):
        result = source.run(*args, "-o", str(target))
        assert result.exit_code == 0, result.output
    from_csv = pandas.read_csv(csv, dtype=str, keep_default_na=False)
    # Nullable dtypes: a whole-number column with NULLs stays whole numbers.
    from_parquet = pandas.read_parquet(parquet, dtype_backend="numpy_nullable")
    assert list(from_parquet.columns) == list(from_csv.columns)
    assert len(from_parquet) == len(from_csv) > 0
    texts = [[as_csv_text(v) for v in row] for row in from_parquet.itertuples(index=False)]
    assert texts == from_csv.to_numpy().tolist()


def test_columns_are_typed(source, tmp_path):
    target = tmp_path / "summary.parquet"
    assert source.run("export", "article_summary", "-o", str(target)).exit_code == 0
    schema = pq.read_schema(target)
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("topics").type == pa.list_(pa.string())
    assert schema.field("is_stub").type == pa.bool_()
    assert schema.field("published").type == pa.bool_()
    assert schema.field("quality").type == pa.int64()
    target = tmp_path / "articles.parquet"
    result = source.run("articles", "--format", "parquet", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert pq.read_schema(target).field("topics").type == pa.list_(pa.string())


def test_duckdb_reads_it_back(source, tmp_path):
    target = tmp_path / "summary.parquet"
    assert source.run("export", "article_summary", "-o", str(target)).exit_code == 0
    expected = json.loads(source.run("export", "article_summary", "--format", "json").stdout)
    found = duckdb.sql(
        "SELECT url, topics, is_stub, strftime(published_at, '%Y-%m-%dT%H:%M:%SZ')"
        f" FROM read_parquet('{target}') ORDER BY id"
    ).fetchall()
    assert found == [
        (row["url"], row["topics"], row["is_stub"], row["published_at"]) for row in expected
    ]


def test_an_unknown_extension_is_a_usage_error(archive, tmp_path):
    imported(archive, DATA)
    target = tmp_path / "out.xlsx"
    error = one_error_line(archive.run("export", "article", "-o", str(target)), 2)
    assert ".xlsx" in error and ".parquet" in error
    assert not target.exists()
    # A name without an extension is still CSV.
    plain = tmp_path / "out"
    assert archive.run("topics", "-o", str(plain)).exit_code == 0
    assert plain.read_text().startswith("name,articles")


def test_without_pyarrow_one_line_says_what_to_install(archive, tmp_path, monkeypatch):
    imported(archive, DATA)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    target = tmp_path / "out.parquet"
    error = one_error_line(archive.run("export", "article", "-o", str(target)), 2)
    assert "pip install 'archive[parquet]'" in error
    assert not target.exists()
