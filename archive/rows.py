"""The types every layer passes along: rows a query gives, and how to write them.

Kept apart from the formatting code so that queries, the read-only SQL runner and
the second writing process can share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .errors import UsageError

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Literal

# What `-o FILE` writes when --format is not given, by FILE's extension.
EXTENSION_FORMATS = {"csv": "csv", "tsv": "tsv", "tab": "tsv", "json": "json", "jsonl": "jsonl",
                     "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}  # fmt: skip


class _Record:
    """A dataclass's behaviour for the two classes below: fields from the class's
    annotations, defaults from its attributes, keyword or positional construction,
    equality, repr and replace(). Not @dataclass itself: the dataclasses module
    imports inspect, a seventh of `archive sql`'s start (rows.py is on that path)."""

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        cls._fields = tuple(cls.__annotations__)  # its own only, since Python 3.10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._fields)} values")
        for name, value in zip(self._fields, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__} got {name!r} twice")
            kwargs[name] = value
        for name in self._fields:
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
            elif not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__} needs {name!r}")
            else:
                setattr(self, name, getattr(type(self), name))
        if kwargs:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(kwargs))!r}")

    def replace(self, **changes: Any) -> Any:
        """A copy with `changes`, as dataclasses.replace makes one."""
        return type(self)(**{**{name: getattr(self, name) for name in self._fields}, **changes})

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({values})"


class OutputOptions(_Record):
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


class Rows(_Record):
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
