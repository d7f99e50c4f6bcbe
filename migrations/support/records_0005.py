"""What migration 0005 reads from a stored record text, frozen as it was then.

0005 fills its new columns from the texts of stored files "as an import would
write them". It used to call the live parser (archive/ingest/records.py) and
identity rules (archive/identity.py), so a later change to either would have
changed what an old migration does. This is a copy of the parts it needs, as
they were at revision 0005 (December 2026): front matter, the address fields,
the URL keys, the provider's extra keys. It never changes; a new rule needs a
new migration.

Only texts an import accepted are stored, so most of the parser's checks cannot
fail here; those that decide what is filled are kept, and a text that fails one
is skipped (`Unreadable`), as 0005 skipped texts the parser refused.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

IDENTITY_KEYS = ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl")
PROVIDER_KEYS = ("name", "domain")


class Unreadable(Exception):
    """The text is not a record the 0005 parser would read."""


@dataclass
class Entry:
    """An article (or a related entry) as far as 0005 fills it."""

    url_keys: list[str]
    original_url: str | None
    featured_content: str | None
    provider_extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Record:
    article: Entry
    related: list[Entry]


# --- the record --------------------------------------------------------------------------

_CLOSING = re.compile(r"\n---\r?(?=\n|$)")


def _front_matter(text: str) -> str:
    content = text[1:] if text.startswith("\ufeff") else text
    first_end = content.find("\n")
    if first_end < 0 or content[:first_end].rstrip("\r") != "---":
        return content
    closing = _CLOSING.search(content, first_end)
    return content if closing is None else content[first_end + 1 : closing.start() + 1]


def read(text: str) -> Record:
    """The parts of a stored record text that 0005 fills; Unreadable if none."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        value = yaml.load(_front_matter(text), Loader=loader)
    except yaml.YAMLError as exc:
        raise Unreadable(str(exc)) from None
    if not isinstance(value, dict):
        raise Unreadable("front matter is not a mapping")
    related = value.get("related") or []
    if not isinstance(related, list):
        raise Unreadable("related is not a list")
    entries = []
    for item in related:
        if not isinstance(item, dict) or not item:
            raise Unreadable("empty related entry")
        entries.append(_entry(item))
    return Record(_entry(value), entries)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise Unreadable(f"expected text, got {type(value).__name__}")


def _url(value: Any) -> str | None:
    url = _text(value)
    if url is None or not url.strip():
        return None
    if not url.strip().lower().startswith(("http://", "https://")):
        raise Unreadable(f"not an http(s) URL: {url}")
    return url


def _entry(data: dict[str, Any]) -> Entry:
    urls = {key: _url(data.get(key)) for key in IDENTITY_KEYS}
    if urls["webUrl"] is None and urls["originalUrl"] is None:
        raise Unreadable("no address")
    keys: list[str] = []
    for url in urls.values():
        if url is not None:
            try:
                key = url_key(url)
            except ValueError as exc:
                raise Unreadable(str(exc)) from None
            if key not in keys:
                keys.append(key)
    return Entry(
        url_keys=keys,
        original_url=urls["originalUrl"],
        featured_content=_text(data.get("featuredContent")),
        provider_extra=_provider_extra(data.get("provider")),
    )


def _provider_extra(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise Unreadable("provider is not a mapping")
    name, domain = (_text(value.get(key)) for key in PROVIDER_KEYS)
    if not (name and name.strip()) and not (domain and domain.strip()):
        return {}  # no provider at all
    return {k: _jsonable(v) for k, v in value.items() if k not in PROVIDER_KEYS}


def _jsonable(value: Any) -> Any:
    """Unknown fields as JSON (timestamps as ISO strings)."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unreadable("field names must be text")
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise Unreadable("number out of range")
    if isinstance(value, (bytes, set)):
        raise Unreadable("a value JSON cannot hold")
    return value


# --- names and addresses, as archive/identity.py had them --------------------------------

_AMP_CACHE = re.compile(r"\.ampproject\.org/[cv]/(?:s/)?", re.I)
_YOUTUBE_WATCH = re.compile(r"https?://(?:www\.)?youtube\.com/watch\?v=([A-Za-z0-9_-]{11})")
_PLAIN_URL = re.compile(
    r"(?i:https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"((?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*)/?"
)


def url_key(url: str) -> str:
    parts = _AMP_CACHE.split(url.strip(), 1)
    if len(parts) > 1 and parts[1]:
        return _normalized("https://" + parts[1])
    return _normalized(url)


@lru_cache(maxsize=8_192)
def _normalized(url: str) -> str:
    watch = _YOUTUBE_WATCH.fullmatch(url)
    if watch is not None:
        return "youtube.com/watch?v=" + watch.group(1)
    if "youtu" in url.lower():
        video = _youtube_video(url)
        if video is not None:
            url = video
    key = _plain_url_key(url)
    if key is not None:
        return key
    from ural import normalize_url

    try:
        key = normalize_url(url.strip())
    except Exception as exc:  # ural raises assorted errors on malformed URLs
        raise ValueError(f"not a valid URL: {url}") from exc
    if not key:
        raise ValueError(f"not a valid URL: {url}")
    return key


def _youtube_video(url: str) -> str | None:
    from ural.youtube import YoutubeVideo, is_youtube_url, normalize_youtube_url, parse_youtube_url

    try:
        if is_youtube_url(url) and isinstance(parse_youtube_url(url), YoutubeVideo):
            return normalize_youtube_url(url)
    except Exception:  # ural raises assorted errors on malformed URLs: not a video then
        return None
    return None


def _plain_url_key(url: str) -> str | None:
    """ural's key for a plain URL (faster, the same result), or None when not plain."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    from ural.infer_redirection import REDIRECTION_DOMAINS_RE
    from ural.normalize_url import AMP_SUFFIXES_RE, IRRELEVANT_SUBDOMAIN_AMP_RE

    host = match.group(1).lower()
    if "xn--" in host or REDIRECTION_DOMAINS_RE.search(url):
        return None
    path = AMP_SUFFIXES_RE.sub("", match.group(2))
    head, _, last = path.rpartition("/")
    if last and posixpath.splitext(last)[0] in ("index", "default"):
        path = head
    if path == "/":
        path = ""
    host = IRRELEVANT_SUBDOMAIN_AMP_RE.sub("", host)
    if host.startswith("amp-"):
        host = host[4:]
    return host + path.rstrip("/")


def text_key(name: str) -> str:
    """Trimmed, inner spaces collapsed, case-folded, NFKC (before and after folding)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def topic_key(name: str) -> str:
    return text_key(name)


def provider_name_key(name: str | None) -> str:
    """The key of a provider known by name (one without a domain)."""
    return "name:" + text_key(name or "")
