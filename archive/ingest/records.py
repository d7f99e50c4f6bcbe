"""Read one record file: split front matter from body, load the YAML, validate the fields.

The result is a plain `Record` that knows nothing about the database. Every problem
is a `RecordError` naming the field path (`related[2].provider.domain`) and, where
the YAML says, the line in the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from .. import identity
from ..errors import RecordError
from ..messages import shown
from ..record_format import (
    ADDRESS_KEYS,
    ARTICLE_COLUMNS,
    ARTICLE_FIELDS,
    ARTICLE_KEYS,
    IDENTITY_FIELDS,
    IMAGE_FIELDS,
    IMAGE_KEYS,
    IMAGES_KEY,
    INTEGER_RANGE,
    PROVIDER_FIELDS,
    PROVIDER_KEY,
    PROVIDER_KEYS,
    RECORD_KEYS,
    RELATED_KEY,
    TIMESTAMP_RANGE,
    TOPICS_KEY,
    Field,
    Kind,
)
from . import yamldoc

MAX_FILE_BYTES = 10 * 1024 * 1024


class _Compact:
    """Pickle as (class, field values): records travel from parser processes in bulk."""

    __slots__ = ()

    def __reduce__(self) -> tuple:
        return (type(self), tuple(getattr(self, name) for name in self.__slots__))


@dataclass(slots=True)
class Provider(_Compact):
    key: str
    name: str | None
    domain: str | None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. images (logos)


@dataclass(slots=True)
class Image(_Compact):
    url: str
    width: int | None = None
    height: int | None = None
    is_cached: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The article fields a record (or one of its related entries) states: one attribute
# per column of record_format.ARTICLE_FIELDS (url, title, published_at, ...), plus
# the URL keys that identify the article, its provider, images and unmapped keys.
Article = make_dataclass(
    "Article",
    [
        ("url", str),
        ("url_keys", list[str]),
        *((column, Any, field(default=None)) for column in ARTICLE_COLUMNS if column != "url"),
        ("provider", "Provider | None", field(default=None)),
        ("images", list[Image], field(default_factory=list)),
        ("extra", dict[str, Any], field(default_factory=dict)),
    ],
    bases=(_Compact,),
    slots=True,
)
Article.__module__ = __name__  # so that pickle finds it here (make_dataclass's module= is 3.12+)


@dataclass(slots=True)
class Record(_Compact):
    source: str
    text: str
    sha256: str
    size: int
    article: Article
    body: str | None
    topics: list[str]
    related: list[Article]
    # Its story features (stories/prepared.py), when a parser process made them.
    story: Any = None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, max_bytes: int = MAX_FILE_BYTES) -> str:
    """UTF-8 text of a record file; the BOM, if any, stays (so the file round-trips)."""
    if len(data) > max_bytes:
        raise RecordError(f"file is larger than {max_bytes} bytes (see --max-file-size)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RecordError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line=line
        ) from None
    if "\x00" in text:
        raise RecordError(
            "contains a NUL character", line=text[: text.index("\x00")].count("\n") + 1
        )
    return text


_CLOSING = re.compile(r"\n---\r?(?=\n|$)")


def split_front_matter(text: str) -> tuple[str, int, str | None]:
    """Return (yaml_text, line_offset, body).

    `---` on the first line opens front matter, and the next line that is exactly
    `---` closes it; the body is everything after that line, byte for byte. A file
    without an opening `---`, or with no closing one, is one bare YAML document.
    """
    content = text[1:] if text.startswith("\ufeff") else text
    first_end = content.find("\n")
    if first_end < 0 or content[:first_end].rstrip("\r") != "---":
        return content, 0, None
    closing = _CLOSING.search(content, first_end)
    if closing is None:
        return content, 0, None
    after = closing.end() + 1  # past the closing line's newline, if any
    return content[first_end + 1 : closing.start() + 1], 1, content[after:]


def parse_record(
    data: bytes, source: str = "<record>", *, max_bytes: int = MAX_FILE_BYTES
) -> Record:
    """Parse and validate one record file's bytes. Raises RecordError naming `source`."""
    try:
        text = decode(data, max_bytes)
        if not text.strip("\ufeff \t\r\n"):
            raise RecordError("file is empty")
        yaml_text, offset, body = split_front_matter(text)
        value, root = yamldoc.load(yaml_text, offset)
        try:
            article, topics, related = _validate(value, root, offset, "\\" in yaml_text)
        except RecordError:
            if root is not None:
                raise
            # The fast parser keeps no positions: parse again to say on which line.
            value, root = yamldoc.load(yaml_text, offset, fast=False)
            article, topics, related = _validate(value, root, offset, "\\" in yaml_text)
    except RecordError as exc:
        raise exc.located(source) from None
    return Record(
        source=source,
        text=text,
        sha256=content_hash(data),
        size=len(data),
        article=article,
        body=body,
        topics=topics,
        related=related,
    )


def _validate(
    value: Any, root: Any, offset: int, escapes: bool
) -> tuple[Article, list[str], list[Article]]:
    """The record's parts, checked. `escapes`: the YAML has a backslash, so a quoted
    scalar may hold a NUL (`"\\0"`), which the file's bytes cannot (decode refuses it)."""
    if value is None:
        raise RecordError("front matter is empty", line=1)
    if not isinstance(value, dict):
        line = yamldoc.locate(root, ())
        raise RecordError(
            f"front matter must be a mapping of fields, not {_kind(value)}",
            line=None if line is None else line + offset,
        )
    checker = _Checker(root, offset)
    if escapes:
        where = _nul_at(value, ())
        if where is not None:
            # PostgreSQL cannot store NUL in text or JSON; no engine gets it, so an
            # archive moves between engines unchanged.
            raise checker.fail(where, "contains a NUL character (\\0), which is not stored")
    article = checker.article(value, ())
    topics = checker.topics(value.get(TOPICS_KEY))
    related = checker.related(value.get(RELATED_KEY))
    extra = {k: v for k, v in value.items() if k not in RECORD_KEYS}
    article.extra = checker.jsonable(extra, ())
    return article, topics, related


def _nul_at(value: Any, path: FieldPath) -> FieldPath | None:
    """The path of the first key or text holding a NUL character, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):  # `!!omap` and `!!pairs` give tuples
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return path
        found = _nul_at(item, (*path, key))
        if found is not None:
            return found
    return None


def _kind(value: Any) -> str:
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


FieldPath = tuple[str | int, ...]

_INTEGER_BOUNDS = "(whole numbers are kept as 64-bit integers)"
_TIMESTAMP_BOUNDS = (
    f"(from {TIMESTAMP_RANGE[0].date().isoformat()}"
    f" to {(TIMESTAMP_RANGE[1] - dt.timedelta(days=1)).date().isoformat()} UTC)"
)

# (column, key, kind) of each field, for the checker's loop.
FieldSpecs = tuple[tuple[str, str, Kind], ...]


def _specs(fields: tuple[Field, ...]) -> FieldSpecs:
    return tuple((f.column, f.key, f.kind) for f in fields)


_ARTICLE_SPECS = _specs(ARTICLE_FIELDS)
_PROVIDER_SPECS = _specs(PROVIDER_FIELDS)
_IMAGE_SPECS = _specs(IMAGE_FIELDS)


def _dotted(path: FieldPath) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif not step.isprintable():  # a key with a line break must not break the message
            out += f"[{shown(step)}]"
        else:
            out += f".{step}" if out else step
    return out


class _Checker:
    """Type checks with error messages that point at the field and its line."""

    def __init__(self, root: Any, offset: int) -> None:
        self.root = root
        self.offset = offset

    def fail(self, path: FieldPath, reason: str) -> RecordError:
        return RecordError(reason, field=_dotted(path), line=self._line(path))

    def _line(self, path: FieldPath) -> int | None:
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
        raise self.fail(path, f"expected text, got {_kind(value)} {shown(value)}{hint}")

    def integer(self, value: Any, path: FieldPath) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
                raise self.fail(path, f"number out of range: {shown(value)} {_INTEGER_BOUNDS}")
            return value
        raise self.fail(path, f"expected a whole number, got {_kind(value)} {shown(value)}")

    def boolean(self, value: Any, path: FieldPath) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(path, f"expected true or false, got {_kind(value)} {shown(value)}")

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
            raise self.fail(path, f"expected a timestamp, got {_kind(value)} {shown(value)}")
        # A time without an offset is taken as UTC, as the feeds we know write UTC.
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        else:
            try:
                stamp = stamp.astimezone(dt.timezone.utc)
            except OverflowError:
                stamp = None
        if stamp is None or not TIMESTAMP_RANGE[0] <= stamp < TIMESTAMP_RANGE[1]:
            raise self.fail(path, f"timestamp out of range: {shown(value)} {_TIMESTAMP_BOUNDS}")
        return stamp

    def mapping(self, value: Any, path: FieldPath) -> Mapping[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        raise self.fail(path, f"expected a mapping of fields, got {_kind(value)}")

    def sequence(self, value: Any, path: FieldPath) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.fail(path, f"expected a list, got {_kind(value)} {shown(value)}")

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
        values = {}
        for column, key, kind in specs:
            value = data.get(key)
            if value is not None and not (
                (type(value) is str and kind == "text")
                or (type(value) is bool and kind == "boolean")
            ):
                value = self.check(kind, value, (*path, key))
            values[column] = value
        return values

    def article(self, data: Mapping[str, Any], path: FieldPath) -> Article:
        values = self.fields(_ARTICLE_SPECS, data, path)
        if values["url"] is None:
            values["url"] = values["original_url"]
        if values["url"] is None:
            raise RecordError(
                f"no address: none of {', '.join(ADDRESS_KEYS)} is given",
                field=_dotted(path) or None,
                # A related entry's line helps find it; a whole record's first line does not.
                line=self._line(path) if path else None,
            )
        keys: list[str] = []
        for f in IDENTITY_FIELDS:
            candidate = values[f.column]
            if candidate is None:
                continue
            try:
                key = identity.url_key(candidate)
            except ValueError as exc:
                raise self.fail((*path, f.key), str(exc)) from None
            if key not in keys:
                keys.append(key)
        return Article(
            url_keys=keys,
            provider=self.provider(data.get(PROVIDER_KEY), (*path, PROVIDER_KEY)),
            images=self.images(data.get(IMAGES_KEY), (*path, IMAGES_KEY)),
            **values,
        )

    def provider(self, value: Any, path: FieldPath) -> Provider | None:
        data = self.mapping(value, path)
        if not data:
            return None
        values = self.fields(_PROVIDER_SPECS, data, path)
        name, domain = (
            value.strip() if value and value.strip() else None
            for value in (values["name"], values["domain"])
        )
        if name is None and domain is None:
            return None
        extra = {k: v for k, v in data.items() if k not in PROVIDER_KEYS}
        return Provider(
            key=identity.provider_key(name, domain),
            name=name,
            domain=domain,
            extra=self.jsonable(extra, path),
        )

    def images(self, value: Any, path: FieldPath) -> list[Image]:
        images = []
        for i, item in enumerate(self.sequence(value, path)):
            item_path = (*path, i)
            data = self.mapping(item, item_path)
            if data is None:
                raise self.fail(item_path, "empty image entry")
            values = self.fields(_IMAGE_SPECS, data, item_path)
            if not values["url"] or not values["url"].strip():
                raise self.fail((*item_path, "url"), "is required for every image")
            extra = {k: v for k, v in data.items() if k not in IMAGE_KEYS}
            images.append(Image(**values, extra=self.jsonable(extra, item_path)))
        return images

    def topics(self, value: Any) -> list[str]:
        topics = []
        for i, item in enumerate(self.sequence(value, (TOPICS_KEY,))):
            name = self.text(item, (TOPICS_KEY, i))
            if name is not None and name.strip():
                topics.append(name.strip())
        return topics

    def related(self, value: Any) -> list[Article]:
        related = []
        for i, item in enumerate(self.sequence(value, (RELATED_KEY,))):
            path: FieldPath = (RELATED_KEY, i)
            data = self.mapping(item, path)
            if data is None:
                raise self.fail(path, "empty related entry")
            entry = self.article(data, path)
            extra = {k: v for k, v in data.items() if k not in ARTICLE_KEYS}
            entry.extra = self.jsonable(extra, path)
            related.append(entry)
        return related

    def jsonable(self, value: Any, path: FieldPath) -> Any:
        """Unknown fields as JSON-ready values (timestamps become ISO strings).

        Whatever else PyYAML's safe loader can make (a `!!set`, `!!binary` data, a
        number wider than 64 bits) is refused here, with its field: JSON and the
        archive's readers have nothing that holds it unchanged.
        """
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        if kind is dict:
            out = {}
            for k, v in value.items():
                if type(k) is not str:
                    raise self.fail(path, f"field names must be text, got {_kind(k)} {shown(k)}")
                out[k] = self.jsonable(v, (*path, k))
            return out
        if kind is list or kind is tuple:  # `!!omap` and `!!pairs` give tuples
            return [self.jsonable(v, (*path, i)) for i, v in enumerate(value)]
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
        raise self.fail(path, f"values of this kind are not supported: {_kind(value)}")
