"""The types every layer passes along: rows a query gives, and how to write them.

Kept apart from the formatting code so that queries, the read-only SQL runner and
the second writing process can share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

from .errors import UsageError

# What `-o FILE` writes when --format is not given, by FILE's extension.
EXTENSION_FORMATS = {"csv": "csv", "tsv": "tsv", "tab": "tsv", "json": "json", "jsonl": "jsonl",
                     "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}  # fmt: skip


@dataclass
class OutputOptions:
    format: str | None = None  # None: table on a terminal, csv otherwise
    output: str | None = None
    limit: int | None = None
    headers: bool = True
    bom: bool = False
    excel_safe: bool = False
    force: bool = False
    fail_on_empty: bool = False  # an answer without rows exits with EmptyAnswer's code
    columns: Sequence[str] | None = None  # --columns: these, in this order
    sort: str | None = None  # --sort: a column name, "-name" for descending
    # Files -o must never replace, whatever --force says: the archive and its -wal/-shm.
    protected: tuple[str, ...] = ()

    def resolved_format(self, stream: IO[str]) -> str:
        """--format, else the one -o's extension names, else table on a terminal and
        CSV otherwise."""
        if self.format:
            return self.format
        if self.output not in (None, "-"):
            return format_of_file(self.output)
        if stream.isatty():
            return "table"
        return "csv"


def format_of_file(path: str) -> str:
    """The format a file name's extension names; CSV for a name without one.

    An extension no format has is a mistake (`-o out.xlsx` would otherwise be CSV
    under a spreadsheet's name), refused before anything is read.
    """
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name.lstrip("."):
        return "csv"
    extension = name.rsplit(".", 1)[-1].lower()
    if extension not in EXTENSION_FORMATS:
        known = ", ".join("." + e for e in EXTENSION_FORMATS)
        raise UsageError(
            f"cannot tell the format of {path} from .{extension}: use one of {known},"
            " or give --format"
        )
    return EXTENSION_FORMATS[extension]


@dataclass
class Rows:
    """Column names and a stream of rows (tuples), as a query gives them."""

    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    # A column to draw as a bar on a terminal table (timeline), and its scale.
    bar_column: str | None = None
    # "vertical": the rows are one record's (field, value) pairs, shown on a terminal
    # as `field │ value` lines whose values wrap in full (output/table.py).
    layout: Literal["table", "vertical"] = "table"
    # The same answer as one JSON object (show's article), for json and jsonl.
    record: dict[str, Any] | None = None
    # The columns of a one-line-per-row view for terminals too narrow for them all
    # (articles); the last is cut to fit (output/table.py).
    compact: Sequence[str] | None = None
