"""The write path runs without SQLAlchemy, on one description of the schema.

store/columns.py repeats the models' column names and kinds in plain Python, so
that an import into an archive at the current revision needs neither SQLAlchemy,
SQLModel nor Alembic. These tests hold it to the models, hold its value conversion
to SQLAlchemy's, and check which modules an import loads.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, record, write

from archive.store import columns, write_connection

HEAVY = ("sqlalchemy", "sqlmodel", "alembic")


def _model_kind(column) -> str:
    from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text
    from sqlmodel import AutoString

    from archive.store.models import UTCTimestamp

    for kind, types in (
        ("timestamp", UTCTimestamp),
        ("json", JSON),
        ("bool", Boolean),
        ("blob", LargeBinary),
        ("int", Integer),
        ("text", (String, Text, AutoString)),
    ):
        if isinstance(column.type, types):
            return kind
    raise AssertionError(f"{column}: no kind for {column.type!r}")


def test_the_columns_are_the_models_columns() -> None:
    from archive.store.models import SQLModel

    models = {
        name: {column.name: _model_kind(column) for column in table.columns}
        for name, table in SQLModel.metadata.tables.items()
    }
    described = {table.name: table.kinds for table in columns.TABLES}
    assert described == models
    # In the models' order too: the writer inserts whole rows by position.
    for name, table in SQLModel.metadata.tables.items():
        assert list(described[name]) == [column.name for column in table.columns]


def test_the_short_table_names_are_the_models() -> None:
    from archive.store.models import tables

    assert {k: t.name for k, t in vars(columns.tables).items()} == {
        k: t.name for k, t in vars(tables).items()
    }


def test_the_deferred_indexes_are_the_models_query_only_indexes() -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex

    from archive.store.models import SQLModel

    indexes = [
        index
        for table in SQLModel.metadata.tables.values()
        for index in sorted(table.indexes, key=lambda index: str(index.name))
        if index.info.get("query_only")
    ]
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        from_models = [
            " ".join(str(CreateIndex(i, if_not_exists=True).compile(dialect=dialect)).split())
            for i in indexes
        ]
        ours = [
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(cols)})"
            for name, table, cols in columns.DEFERRED_INDEXES
        ]
        assert ours == from_models


SAMPLES = {
    "timestamp": [
        dt.datetime(2020, 1, 1, 5, 6, 7, 891011, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc),
    ],
    "json": [{"a": 1, "b": ["x", None]}, ["é"], "text", 3],
    "bool": [True, False],
    "int": [0, 2**40],
    "text": ["", "x ü"],
    "blob": [b"\x00\x01"],
}


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_values_are_bound_as_sqlalchemy_bound_them(dialect_name: str) -> None:
    """The values written are those SQLAlchemy's bind processors made of them, so
    archives written before and after the change hold the same text."""
    if dialect_name == "postgresql":
        pytest.importorskip("psycopg")
        from sqlalchemy.dialects.postgresql.psycopg import dialect as make
    else:
        from sqlalchemy.dialects.sqlite.pysqlite import dialect as make
    from archive.store.models import SQLModel

    dialect = make()
    described = {t.name: t for t in columns.TABLES}
    ours = write_connection.SQLITE if dialect_name == "sqlite" else write_connection.POSTGRESQL
    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            kind = described[table.name].kinds[column.name]
            theirs = column.type._cached_bind_processor(dialect)
            convert = write_connection.converter(kind, ours)
            for value in SAMPLES[kind]:
                expected = theirs(value) if theirs else value
                got = convert(value) if convert else value
                if kind == "json" and dialect_name == "postgresql":
                    expected, got = expected.obj, got.obj  # psycopg's Json wrappers
                elif kind == "bool" and dialect_name == "sqlite":
                    assert int(got) == expected  # sqlite3 binds True as 1 itself
                    continue
                assert got == expected, (table.name, column.name, value)


def _import_and_heavy_modules(args: list[str]) -> tuple[int, list[str]]:
    """Run `archive ARGS` in a fresh interpreter: its exit status, and the SQLAlchemy,
    SQLModel and Alembic modules it loaded."""
    code = (
        "import sys\n"
        "from archive.cli import cli\n"
        "status = 0\n"
        f"try:\n    cli({args!r}, prog_name='archive')\n"
        "except SystemExit as exc:\n    status = exc.code or 0\n"
        f"print(status, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    status, modules = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(status), eval(modules)


def test_an_import_into_an_archive_at_head_loads_no_sqlalchemy(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    new = tmp_path / "new"
    write(new, "n.md", record("https://example.com/brand-new"))
    status, modules = _import_and_heavy_modules(["--db", str(db), "import", "-q", str(new)])
    assert status == 0
    assert modules == []
    import sqlite3

    with sqlite3.connect(db) as conn:
        urls = [u for (u,) in conn.execute("SELECT url FROM article")]
    assert "https://example.com/brand-new" in urls


def test_a_new_archive_is_created_through_alembic(tmp_path: Path) -> None:
    status, modules = _import_and_heavy_modules(
        ["--db", str(tmp_path / "new.db"), "import", "-q", str(DATA)]
    )
    assert status == 0
    assert {"sqlalchemy", "alembic"} <= {m.split(".")[0] for m in modules}


def test_an_archive_at_an_old_revision_goes_through_alembic(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "db", "downgrade", "-1"],
        check=True,
        capture_output=True,
    )
    status, modules = _import_and_heavy_modules(["--db", str(db), "import", "-q", str(DATA)])
    assert status == 3  # out of date: `archive db upgrade` first
    assert "alembic" in {m.split(".")[0] for m in modules}


def test_the_writers_rows_are_their_tables_columns() -> None:
    """The writer inserts named rows by position, with their fields as the column
    list: each must be its table's columns in the schema's order."""
    from archive.ingest import plan_rows

    source = [c for c in columns.tables.source.columns if c != "removed_at"]
    assert list(plan_rows.SourceRow._fields) == source
    for row, table in (
        (plan_rows.ProviderRow, columns.tables.provider),
        (plan_rows.TopicRow, columns.tables.topic),
        (plan_rows.TopicLink, columns.tables.article_topic),
        (plan_rows.ImageLink, columns.tables.article_image),
        (plan_rows.RelatedLink, columns.tables.related),
    ):
        assert row._fields == table.columns
