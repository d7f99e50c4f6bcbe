"""Read one record file: split front matter from body, load the YAML, validate the fields.

The result is a plain `Record` that knows nothing about the database. Every problem
is a `RecordError` naming the field path (`related[2].provider.domain`) and, where
the YAML says, the line in the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from .. import identity
from ..errors import RecordError
from ..record_format import (
    ADDRESS_KEYS,
    ARTICLE_COLUMNS,
    ARTICLE_FIELDS,
    ARTICLE_KEYS,
    IDENTITY_FIELDS,
    IMAGE_FIELDS,
    IMAGE_KEYS,
    IMAGES_KEY,
    PROVIDER_FIELDS,
    PROVIDER_KEY,
    PROVIDER_KEYS,
    RECORD_KEYS,
    RELATED_KEY,
    TOPICS_KEY,
)
from . import yamldoc
from .checks import FieldPath, ValueChecks, dotted, kind_of, specs

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
            article, topics, related = _validate(value, root, offset, _may_hold_nul(yaml_text))
        except RecordError:
            if root is not None:
                raise
            # The fast parser keeps no positions: parse again to say on which line.
            value, root = yamldoc.load(yaml_text, offset, fast=False)
            article, topics, related = _validate(value, root, offset, _may_hold_nul(yaml_text))
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


# The escapes that can make a NUL character: \0, \x00, \u0000 and \U00000000.
_NUL_ESCAPE = re.compile(r"\\[0xuU]")


def _may_hold_nul(yaml_text: str) -> bool:
    """Whether a quoted scalar may hold a NUL, which the file's bytes cannot (decode
    refuses it): only an escape can write one, and real records escape only quotes."""
    return "\\" in yaml_text and _NUL_ESCAPE.search(yaml_text) is not None


def _validate(
    value: Any, root: Any, offset: int, escapes: bool
) -> tuple[Article, list[str], list[Article]]:
    """The record's parts, checked. `escapes`: the YAML has an escape that can write
    a NUL (see _may_hold_nul)."""
    if value is None:
        raise RecordError("front matter is empty", line=1)
    if not isinstance(value, dict):
        line = yamldoc.locate(root, ())
        raise RecordError(
            f"front matter must be a mapping of fields, not {kind_of(value)}",
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


_ARTICLE_SPECS = specs(ARTICLE_FIELDS)
_PROVIDER_SPECS = specs(PROVIDER_FIELDS)
_IMAGE_SPECS = specs(IMAGE_FIELDS)


class _Checker(ValueChecks):
    """The parts of a record (its article, provider, images, topics, related entries),
    each built from checked values."""

    def article(self, data: Mapping[str, Any], path: FieldPath) -> Article:
        values = self.fields(_ARTICLE_SPECS, data, path)
        if values["url"] is None:
            values["url"] = values["original_url"]
        if values["url"] is None:
            raise RecordError(
                f"no address: none of {', '.join(ADDRESS_KEYS)} is given",
                field=dotted(path) or None,
                # A related entry's line helps find it; a whole record's first line does not.
                line=self.line(path) if path else None,
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
