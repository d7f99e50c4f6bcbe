"""Bulk statements for one connection's dialect: placeholders and value conversion.

Plain SQL in the driver's parameter style, with column lists and each column's
kind from store/columns.py (checked against the models by tests/test_write_path.py),
so that writing needs neither SQLAlchemy nor the models. Nothing here is
SQLite-specific except that explicit ids need the writer to hold the write lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

from ..store.columns import TABLES, Table
from ..store.write_connection import Connection, converter, placeholder, select_in

__all__ = ["Statements", "chunks", "placeholder", "select_in"]

_IN_CHUNK = 500  # bound parameters per IN (...) query: well under every driver's limit
_MULTIROW = 256  # most rows per multi-row INSERT, if the driver takes that many parameters
_TABLES = {table.name: table for table in TABLES}


def _described(table: Any) -> Table:
    # A models Table (code written against store.models.tables) names the same table.
    return table if isinstance(table, Table) else _TABLES[table.name]


class Statements:
    """INSERT, UPDATE, DELETE and SELECT ... IN for one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.mark = placeholder(conn)
        self._converters: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}
        self.max_parameters = _max_parameters(conn.dialect.name)

    def columns(self, table: Any) -> list[str]:
        return list(_described(table).columns)

    def _converters_of(self, table: Table, names: Sequence[str]) -> list[tuple[int, Any]]:
        key = table.name + ":" + ",".join(names)
        found = self._converters.get(key)
        if found is None:
            found = []
            for index, name in enumerate(names):
                kind = table.kinds[name]
                convert = converter(kind, self.dialect)
                if convert is not None:
                    found.append((index, _memoized(convert) if kind == "timestamp" else convert))
            self._converters[key] = found
        return found

    def convert(
        self, table: Any, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> list[tuple]:
        converters = self._converters_of(_described(table), names)
        if not converters:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                # Most of these values are None, which stays None: skip the call.
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            out.append(tuple(values))
        return out

    def insert(self, table: Any, names: Sequence[str], rows: list[Sequence[Any]]) -> None:
        if rows:
            sql = (
                f"INSERT INTO {table.name} ({', '.join(names)}) "
                f"VALUES ({', '.join([self.mark] * len(names))})"
            )
            self.conn.exec_driver_sql(sql, self.convert(table, names, rows))

    def insert_multirow(self, table: Any, names: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """INSERT with many rows per statement, for tables whose inserts fire triggers.

        A statement that fires a trigger pays a fixed cost each time it runs: on
        SQLite, the search-index trigger on `article` made a one-row-per-statement
        `executemany` three times slower than the same rows in 200-row statements
        (54 against 20 µs per article). Statements hold a power of two of rows, so
        a handful of statement texts serve every batch size from the driver's cache.
        """
        converted = self.convert(table, names, rows)
        row_marks = f"({', '.join([self.mark] * len(names))})"
        most = 1
        while most * 2 <= min(_MULTIROW, self.max_parameters // len(names)):
            most *= 2
        start = 0
        while start < len(converted):
            size = most
            while size > len(converted) - start:
                size //= 2
            part = converted[start : start + size]
            self.conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
                + ", ".join([row_marks] * size),
                tuple(chain.from_iterable(part)),
            )
            start += size

    def update(
        self, table: Any, names: Sequence[str], rows: list[Sequence[Any]], *, fill: bool = False
    ) -> None:
        """UPDATE by id; each row is (values..., id). With `fill`, only NULL columns change."""
        if not rows:
            return
        if fill:
            sets = ", ".join(f"{n} = COALESCE({n}, {self.mark})" for n in names)
        else:
            sets = ", ".join(f"{n} = {self.mark}" for n in names)
        sql = f"UPDATE {table.name} SET {sets} WHERE id = {self.mark}"
        self.conn.exec_driver_sql(sql, self.convert(table, [*names, "id"], rows))

    def delete_where_in(self, table: Any, column: str, ids: Sequence[int]) -> None:
        for chunk in chunks(list(ids)):
            marks = ", ".join([self.mark] * len(chunk))
            self.conn.exec_driver_sql(
                f"DELETE FROM {table.name} WHERE {column} IN ({marks})", tuple(chunk)
            )

    def select_in(self, sql: str, values: Iterable[Any]) -> list[tuple]:
        return select_in(self.conn, sql, values, _IN_CHUNK)

    def max_id(self, table: Any) -> int:
        return self.conn.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A timestamp conversion that converts each value once per batch.

    Timestamps repeat within a batch: every file's import time, and each article's
    publication time again in its topic links. Converting one took 2-3% of the
    writer's time. Equal aware datetimes are the same instant, which is stored as
    the same value.
    """
    cache: dict[Any, Any] = {}

    def process_once(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) >= 65536:
                cache.clear()
            result = cache[value] = process(value)
            return result

    return process_once


def _max_parameters(dialect: str) -> int:
    """How many bound parameters one statement may carry."""
    if dialect == "sqlite":
        # SQLite before 3.32 was built with a limit of 999 by default.
        return 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
    return 32767  # psycopg allows 65,535; stay well inside it


def chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]
