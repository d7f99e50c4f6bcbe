"""Writing rows out: one place for every command's table, CSV, TSV, JSON and JSONL.

Rows stream: memory does not grow with their number, except for `table` (table.py),
which needs column widths and so shows at most TABLE_MAX_ROWS rows (and says so).
Files are written to a temporary file beside the target and renamed into place,
so a failed export leaves neither a half file nor a clobbered old one.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import islice

from ..errors import OutputError, UsageError
from ..rows import OutputOptions, Rows
from .offload import available as offload_available
from .offload import write_in_child
from .targets import check_output_file

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "parquet")
EXCEL_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _timestamp(value: dt.datetime) -> str:
    """UTC instants as 2020-08-17T18:08:00Z, which spreadsheets and pandas read."""
    if value.tzinfo is not None and value.utcoffset() == dt.timedelta(0):
        text = value.replace(tzinfo=None).isoformat()
        return text + "Z"
    return value.isoformat()


def json_value(value: Any) -> Any:
    """A JSON-ready value: numbers stay numbers, NULL stays null."""
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    # A Decimal (PostgreSQL's numeric) exists only once the driver loaded decimal:
    # `archive sql` on SQLite starts without it.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no infinity or NaN; null keeps the file readable everywhere
    if isinstance(value, (bytes, memoryview)):
        return _base64(value)
    return value


def text_value(value: Any) -> str:
    """A value as CSV, TSV and tables write it: booleans `true`/`false` as in JSON,
    lists (topics) and objects as JSON text, NULL as nothing."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float; inf, nan too
    if isinstance(value, (bytes, memoryview)):
        return _base64(value)
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, (dict, list)):
        import json  # not at start: `archive sql` on plain values never needs it

        return json.dumps(value, ensure_ascii=False)  # a JSON column, as JSON text
    return str(value)


def _base64(value: bytes | memoryview) -> str:
    import base64  # only for BLOBs, which no archive table holds

    return base64.b64encode(bytes(value)).decode("ascii")


def _excel_safe(value: Any) -> Any:
    # Defuses formula injection in spreadsheets: text that starts like a formula
    # gets a leading apostrophe. Numbers are left alone.
    if isinstance(value, str) and value.startswith(EXCEL_TRIGGERS):
        return "'" + value
    return value


def keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    A large export frees and allocates the same few MB for every batch of rows;
    with glibc's defaults the top of the heap is given back each time and faulted
    in again page by page (170,000 page faults, a sixth of the time of a
    350,000-row export). Only the commands that stream big results call this: it
    changes the whole process. Where the C library is not glibc it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad = -1, -2  # from glibc's malloc.h
    mallopt(m_trim_threshold, 256 << 20)
    mallopt(m_top_pad, 16 << 20)


def write(
    result: Rows, options: OutputOptions, stdout: TextIO | None = None, *, offload: bool = False
) -> int:
    """Write `result` as `options` say; return the number of rows written.

    With `offload`, a file is formatted and written by a second process while this
    one reads the rows (see offload.py); for exports of plain SQLite values.
    """
    stdout = stdout or sys.stdout
    fmt = options.resolved_format(stdout)
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt not in ("csv", "tsv") and (options.bom or options.excel_safe):
        # A BOM makes json.load and pandas fail; JSON keeps values as they are.
        raise UsageError("--bom and --excel-safe are for csv and tsv output only")
    if options.columns or options.sort:
        from .shape import reshaped  # only loaded when asked for

        result = reshaped(result, options.columns, options.sort)
    rows: Iterator[Sequence[Any]] = iter(result.rows)
    if options.limit is not None:
        rows = islice(rows, options.limit)
    if fmt == "parquet":
        from .parquet import Helpers, write_parquet  # pyarrow loads only for Parquet

        helpers = Helpers(destination, json_keys, text_value)
        return write_parquet(result, rows, options, stdout, helpers)
    if options.excel_safe:
        rows = (tuple(_excel_safe(v) for v in row) for row in rows)
    with destination(options, stdout) as stream:
        if options.bom:
            stream.write("\ufeff")
        writer = _WRITERS[fmt]
        if offload and stream is not stdout and fmt != "table" and offload_available():
            return write_in_child(writer, result, rows, stream, options)
        return writer(result, rows, stream, options)


@contextmanager
def destination(options: OutputOptions, stdout: TextIO, *, binary: bool = False) -> Iterator[Any]:
    """A stream for options.output: stdout for None or "-", else a temporary file
    that replaces the target only when the block completes (never a half file).
    With `binary`, a stream of bytes (Parquet)."""
    if options.output is None or options.output == "-":
        stdout.flush()
        yield stdout.buffer if binary else stdout
        (stdout.buffer if binary else stdout).flush()
        return
    target = options.output
    if check_output_file(target, options.protected) and not options.force:
        raise OutputError(f"{target} already exists (use --force to replace it)")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {target}: folder {folder} does not exist")
    import tempfile  # only for -o FILE: 5 ms that `archive sql` need not pay

    try:
        handle, temporary = tempfile.mkstemp(prefix=".archive-", suffix=".part", dir=folder)
    except OSError as exc:  # a read-only folder, a full disk
        raise OutputError(f"cannot write {target}: {exc.strerror}") from None
    try:
        # newline="" lets the csv module write RFC 4180's CRLF itself.
        if binary:
            with open(handle, "wb") as stream:
                yield stream
        else:
            with open(handle, "w", encoding="utf-8", newline="") as stream:
                yield stream
        # mkstemp makes the file private (0600); the file a user asked for gets the
        # mode other tools would give it: the one it had, else what the umask allows.
        os.chmod(temporary, _mode_for(target))
        # Checked again: what is there may have changed while the rows were written.
        check_output_file(target, options.protected)
        os.replace(temporary, target)
    except OSError as exc:  # writing it: a full disk, a quota
        os.unlink(temporary)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _mode_for(target: str) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# Lines are written this many at a time: one write call per line costs more than
# building the line.
_LINES_PER_WRITE = 1000


def _write_delimited(
    result: Rows,
    rows: Iterator[Sequence[Any]],
    stream: TextIO,
    options: OutputOptions,
    delimiter: str,
) -> int:
    """RFC 4180, as the csv module writes it (QUOTE_MINIMAL, CRLF), about twice as fast.

    The csv module spends ~6 µs on a row of an article export; building each line
    with str.join and quoting only the cells that hold a quote, the delimiter or a
    line break takes ~3 µs. tests/test_output.py checks the two agree byte for byte.
    """
    if options.headers:
        header = list(result.columns)
        stream.write(
            _delimited_line(
                [_excel_safe(c) for c in header] if options.excel_safe else header, delimiter
            )
            + "\r\n"
        )
    count = 0
    lines: list[str] = []
    join = delimiter.join
    for row in rows:
        # Most cells are text, integers or NULL: those are handled inline, the rest
        # (floats, timestamps, bytes) go through text_value and the general quoting.
        line = join(
            [
                (
                    value
                    if '"' not in value
                    and delimiter not in value
                    and "\n" not in value
                    and "\r" not in value
                    else '"' + value.replace('"', '""') + '"'
                )
                if type(value) is str
                else ""
                if value is None
                else str(value)
                if type(value) is int
                else ("true" if value else "false")
                if type(value) is bool
                else _quote(text_value(value), delimiter)
                for value in row
            ]
        )
        if not line and len(row) == 1:
            line = '""'  # a lone empty cell, quoted so the line is not read as blank
        lines.append(line)
        count += 1
        if len(lines) == _LINES_PER_WRITE:
            lines.append("")
            stream.write("\r\n".join(lines))
            lines.clear()
    if lines:
        lines.append("")
        stream.write("\r\n".join(lines))
    return count


def _quote(text: str, delimiter: str) -> str:
    if '"' in text or delimiter in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _delimited_line(values: Sequence[Any], delimiter: str) -> str:
    line = delimiter.join(_quote(text_value(value), delimiter) for value in values)
    return '""' if not line and len(values) == 1 else line


def _write_csv(
    result: Rows, rows: Iterator[Sequence[Any]], stream: TextIO, options: OutputOptions
) -> int:
    return _write_delimited(result, rows, stream, options, ",")


def _write_tsv(
    result: Rows, rows: Iterator[Sequence[Any]], stream: TextIO, options: OutputOptions
) -> int:
    return _write_delimited(result, rows, stream, options, "\t")


def json_keys(columns: Sequence[str]) -> list[str]:
    """Object keys for the columns; a repeated name (SELECT * over a join) gets _2, _3."""
    keys: list[str] = []
    seen: set[str] = set()
    for column in columns:
        key, n = column, 1
        while key in seen:
            n += 1
            key = f"{column}_{n}"
        seen.add(key)
        keys.append(key)
    return keys


def _json_objects(result: Rows, rows: Iterator[Sequence[Any]]) -> Iterator[str]:
    import json

    keys = json_keys(result.columns)
    for row in rows:
        # allow_nan=False: json_value already turned NaN and infinities into null.
        yield json.dumps(
            dict(zip(keys, map(json_value, row), strict=True)), ensure_ascii=False, allow_nan=False
        )


def _write_record(record: dict[str, Any], stream: TextIO, indent: int | None) -> int:
    """One object (show's article) as JSON: `jq .title` reads it as it is."""
    import json

    values = {key: _json_tree(value) for key, value in record.items()}
    stream.write(json.dumps(values, ensure_ascii=False, allow_nan=False, indent=indent) + "\n")
    return 1


def _json_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_tree(item) for item in value]
    return json_value(value)


def _write_json(
    result: Rows, rows: Iterator[Sequence[Any]], stream: TextIO, options: OutputOptions
) -> int:
    if result.record is not None:
        return _write_record(result.record, stream, 2)
    count = 0
    stream.write("[")
    for text in _json_objects(result, rows):
        stream.write(",\n" if count else "\n")
        stream.write(text)
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


def _write_jsonl(
    result: Rows, rows: Iterator[Sequence[Any]], stream: TextIO, options: OutputOptions
) -> int:
    if result.record is not None:
        return _write_record(result.record, stream, None)
    count = 0
    for text in _json_objects(result, rows):
        stream.write(text + "\n")
        count += 1
    return count


def _write_table(
    result: Rows, rows: Iterator[Sequence[Any]], stream: TextIO, options: OutputOptions
) -> int:
    # Loaded only when a table is written: CSV and JSON output never pay for its layout.
    from .table import write_table

    return write_table(result, rows, stream, options, text_value)


_WRITERS = {
    "table": _write_table,
    "csv": _write_csv,
    "tsv": _write_tsv,
    "json": _write_json,
    "jsonl": _write_jsonl,
}
