"""The `parquet` format: typed columns for pandas, polars, DuckDB and Spark.

Written with pyarrow, the reference implementation of Parquet, installed as the
optional extra `archive[parquet]` (about 40 MB that CSV and JSON users need not
carry). Each column's type comes from its values: UTC timestamps (also the
archive's ISO text `2020-08-17T18:08:00Z`, as SQLite stores them) as
timestamp[us, UTC], topics as list<string>, booleans as bool, whole numbers as
int64, others as float64, objects (extra) as JSON text. The file is built in memory
before it is written (Parquet writes its column chunks and footer at the end).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TextIO

from ..errors import UsageError
from ..rows import OutputOptions, Rows

INSTALL_HINT = "Parquet needs pyarrow: pip install 'archive[parquet]' (or pip install pyarrow)"
# How SQLite holds an instant (store/models.py's ISO_UTC_FORMAT).
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def write_parquet(
    result: Rows,
    rows: Iterator[Sequence[Any]],
    options: OutputOptions,
    stdout: TextIO,
    helpers: Helpers,
) -> int:
    """Write the rows as one Parquet file to options.output (or a piped stdout).

    `helpers` are formats.py's (passed in: formats loads this module, so this module
    does not import it): destination(), json_keys() and text_value().
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    if options.output in (None, "-") and stdout.isatty():
        raise UsageError("Parquet is binary: give -o FILE.parquet, or pipe it to a file")
    names = [str(name) for name in result.columns]
    values: list[list[Any]] = [[] for _ in names]
    count = 0
    for row in rows:
        for column, value in zip(values, row, strict=True):
            column.append(value)
        count += 1
    arrays = [_typed(pa, column, helpers.text_value) for column in values]
    # Names a reader can tell apart (SELECT * over a join repeats some), as JSON's keys.
    table = pa.Table.from_arrays(arrays, names=helpers.json_keys(names))
    with helpers.destination(options, stdout, binary=True) as stream:
        pq.write_table(table, stream)
    return count


class Helpers(NamedTuple):
    destination: Callable[..., Any]
    json_keys: Callable[[Sequence[str]], list[str]]
    text_value: Callable[[Any], str]


def _typed(pa: Any, values: list[Any], text_value: Callable[[Any], str]) -> Any:
    """An Arrow array for one column's values, typed by the kinds of value it holds."""
    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.array(values, type=pa.string())
    if kinds == {str} and all(v is None or _ISO_UTC.fullmatch(v) for v in values):
        values = [None if v is None else _instant(v) for v in values]
        kinds = {dt.datetime}
    if kinds == {dt.datetime}:
        utc = [None if v is None else _utc(v) for v in values]
        return pa.array(utc, type=pa.timestamp("us", tz="UTC"))
    if kinds == {bool}:
        return pa.array(values, type=pa.bool_())
    if kinds == {int}:
        return pa.array(values, type=pa.int64())
    if kinds <= {int, float, decimal.Decimal}:
        numbers = [None if v is None else float(v) for v in values]
        return pa.array(numbers, type=pa.float64())
    if kinds <= {list, tuple}:
        lists = [None if v is None else [None if i is None else str(i) for i in v] for v in values]
        return pa.array(lists, type=pa.list_(pa.string()))
    if kinds <= {bytes, memoryview}:
        return pa.array([None if v is None else bytes(v) for v in values], type=pa.binary())
    texts = [None if v is None else _text(v, text_value) for v in values]
    return pa.array(texts, type=pa.string())


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc)


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)  # the archive keeps UTC
    return value.astimezone(dt.timezone.utc)


def _text(value: Any, text_value: Callable[[Any], str]) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return text_value(value)
