"""Checks of single values of a record: each returns the value as stored or raises a
RecordError naming the field path (`related[2].provider.domain`) and its line.

records.py builds the record's parts (article, provider, images...) on top of
these; what a key means and which kind it is comes from record_format.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RecordError
from ..messages import shown
from ..record_format import INTEGER_RANGE, TIMESTAMP_RANGE, Field, Kind
from . import yamldoc

FieldPath = tuple[str | int, ...]

_INTEGER_BOUNDS = "(whole numbers are kept as 64-bit integers)"
_TIMESTAMP_BOUNDS = (
    f"(from {TIMESTAMP_RANGE[0].date().isoformat()}"
    f" to {(TIMESTAMP_RANGE[1] - dt.timedelta(days=1)).date().isoformat()} UTC)"
)
_UTC = dt.timezone.utc


@dataclass(frozen=True)
class FieldSpecs:
    """Fields of one part of a record, for ValueChecks.fields: every column empty,
    and each key's column and kind."""

    blank: dict[str, None]
    by_key: dict[str, tuple[str, Kind]]


def specs(fields: tuple[Field, ...]) -> FieldSpecs:
    return FieldSpecs(
        dict.fromkeys(f.column for f in fields), {f.key: (f.column, f.kind) for f in fields}
    )


class _Refused(Exception):
    """A value json_ready cannot take: ValueChecks.jsonable walks it again to say where."""


def json_ready(value: Any) -> Any:
    """`value` as JSON can hold it (dates as ISO text, a float JSON has no word for as
    text), or _Refused. Builds no field paths: nearly every value passes."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _Refused
            t = type(v)
            out[k] = v if t is str or t is bool or v is None else json_ready(v)
        return out
    if kind is list or kind is tuple:  # `!!omap` and `!!pairs` give tuples
        return [json_ready(v) for v in value]
    if kind is int:
        if INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
            return value
        raise _Refused
    if kind is float:
        # JSON has no NaN or infinity; the raw text keeps the original.
        return value if math.isfinite(value) else str(value)
    if kind is dt.date or kind is dt.datetime:
        return value.isoformat()
    raise _Refused


def kind_of(value: Any) -> str:
    """What a value is, in the words of an error message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def dotted(path: FieldPath) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif not step.isprintable():  # a key with a line break must not break the message
            out += f"[{shown(step)}]"
        else:
            out += f".{step}" if out else step
    return out


class ValueChecks:
    """Type checks with error messages that point at the field and its line.

    `root` is the YAML node tree when the document was read by PyYAML, else None
    (the caller then parses again to find the line: see records.parse_record).
    """

    def __init__(self, root: Any, offset: int) -> None:
        self.root = root
        self.offset = offset

    def fail(self, path: FieldPath, reason: str) -> RecordError:
        return RecordError(reason, field=dotted(path), line=self.line(path))

    def line(self, path: FieldPath) -> int | None:
        line = yamldoc.locate(self.root, path)
        return None if line is None else line + self.offset

    def text(self, value: Any, path: FieldPath) -> str | None:
        if value is None or isinstance(value, str):
            return value
        hint = (
            " (put it in quotes if it is meant as text)"
            if not isinstance(value, (list, dict))
            else ""
        )
        raise self.fail(path, f"expected text, got {kind_of(value)} {shown(value)}{hint}")

    def integer(self, value: Any, path: FieldPath) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
                raise self.fail(path, f"number out of range: {shown(value)} {_INTEGER_BOUNDS}")
            return value
        raise self.fail(path, f"expected a whole number, got {kind_of(value)} {shown(value)}")

    def boolean(self, value: Any, path: FieldPath) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(path, f"expected true or false, got {kind_of(value)} {shown(value)}")

    def timestamp(self, value: Any, path: FieldPath) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            stamp = value
        elif isinstance(value, dt.date):
            stamp = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                stamp = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
            except ValueError:
                raise self.fail(path, f"not a date or timestamp: {shown(value)}") from None
        else:
            raise self.fail(path, f"expected a timestamp, got {kind_of(value)} {shown(value)}")
        # A time without an offset is taken as UTC, as the feeds we know write UTC.
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=_UTC)
        elif stamp.tzinfo is not _UTC:
            try:
                stamp = stamp.astimezone(_UTC)
            except OverflowError:
                stamp = None
        if stamp is None or not TIMESTAMP_RANGE[0] <= stamp < TIMESTAMP_RANGE[1]:
            raise self.fail(path, f"timestamp out of range: {shown(value)} {_TIMESTAMP_BOUNDS}")
        return stamp

    def mapping(self, value: Any, path: FieldPath) -> Mapping[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        raise self.fail(path, f"expected a mapping of fields, got {kind_of(value)}")

    def sequence(self, value: Any, path: FieldPath) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.fail(path, f"expected a list, got {kind_of(value)} {shown(value)}")

    def url(self, value: Any, path: FieldPath) -> str | None:
        url = self.text(value, path)
        if url is None or not url.strip():
            return None
        if not url.strip().lower().startswith(("http://", "https://")):
            raise self.fail(path, f"not an http(s) URL: {shown(url)}")
        return url

    def check(self, kind: Kind, value: Any, path: FieldPath) -> Any:
        """A field's value, checked as its kind in record_format says."""
        return getattr(self, kind)(value, path)

    def fields(self, specs: FieldSpecs, data: Mapping[str, Any], path: FieldPath) -> dict[str, Any]:
        """The columns of `specs` from `data`, each checked as its kind says.

        The usual value (absent, or already of its kind) is taken without building
        its field path or calling the check: a record has about twenty fields, and
        this runs for every one of them in every record and related entry.
        """
        values = specs.blank.copy()
        by_key = specs.by_key
        for key, value in data.items():
            spec = by_key.get(key)
            if spec is None or value is None:
                continue
            column, kind = spec
            kind_of_value = type(value)
            if kind_of_value is str:
                if kind == "url":
                    # ValueChecks.url, inlined for the usual address.
                    stripped = value.strip()
                    if not stripped:
                        value = None
                    elif not stripped.lower().startswith(("http://", "https://")):
                        value = self.url(value, (*path, key))
                elif kind != "text":
                    value = self.check(kind, value, (*path, key))
            elif kind_of_value is int and kind == "integer":
                if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
                    value = self.integer(value, (*path, key))
            elif not (kind_of_value is bool and kind == "boolean"):
                value = self.check(kind, value, (*path, key))
            values[column] = value
        return values

    def jsonable(self, value: Any, path: FieldPath) -> Any:
        """Unknown fields as JSON-ready values (timestamps become ISO strings).

        Whatever else PyYAML's safe loader can make (a `!!set`, `!!binary` data, a
        number wider than 64 bits) is refused here, with its field: JSON and the
        archive's readers have nothing that holds it unchanged.
        """
        try:
            return json_ready(value)
        except _Refused:
            return self._jsonable(value, path)

    def _jsonable(self, value: Any, path: FieldPath) -> Any:
        """jsonable, keeping the path of every value so that a refusal names its field."""
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        if kind is dict:
            out = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise self.fail(path, f"field names must be text, got {kind_of(k)} {shown(k)}")
                out[k] = self._jsonable(v, (*path, k))
            return out
        if kind is list or kind is tuple:  # `!!omap` and `!!pairs` give tuples
            return [self._jsonable(v, (*path, i)) for i, v in enumerate(value)]
        if kind is int:
            return self.integer(value, path)
        if kind is float:
            # JSON has no NaN or infinity; the raw text keeps the original.
            return value if math.isfinite(value) else str(value)
        if kind is dt.date or kind is dt.datetime:
            return value.isoformat()
        if kind is bytes:
            raise self.fail(path, "binary values (!!binary) are not supported")
        if kind is set:
            raise self.fail(path, "sets (!!set) are not supported: write a list")
        raise self.fail(path, f"values of this kind are not supported: {kind_of(value)}")
