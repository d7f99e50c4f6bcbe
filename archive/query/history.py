"""`archive history URL`: an article's versions, newest first, and what each changed.

A version is a source_file row whose record described the article: a file edited
over time (each git commit that changed it), or another file about the same
article. What changed is read from the stored texts, key by key of the front
matter (and `body`), against the version before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from ..rows import Rows
from .one_article import find_article
from .sql import Sql
from .values import ISO_UTC_FORMAT

COLUMNS = ("time", "status", "path", "commit", "changed")
# A signature the site re-computes on every build: a change of it alone says nothing.
SIGNATURE_FIELDS = frozenset({"secured"})
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def history(
    conn: Any, url: str, *, fields: Sequence[str] = (), hide_signature: bool = False
) -> Rows:
    """The versions of `url`'s article, newest first. With `fields`, only versions
    that changed one of them (and only those named); `hide_signature` leaves out
    versions that changed nothing but the signature (`secured`)."""
    article_id = find_article(conn, url)
    q = Sql(conn)
    versions = q.all(
        "SELECT s.imported_at, s.committed_at, s.status, s.rel_path, s.path, c.name,"
        " s.commit_id, s.removed_at, s.text FROM source_file s"
        " LEFT JOIN collection c ON c.id = s.collection_id"
        f" WHERE s.article_id = {q.bind(article_id)} ORDER BY s.id"
    )
    return Rows(COLUMNS, _rows(versions, set(fields), hide_signature))


def _rows(versions: list[tuple], wanted: set[str], hide_signature: bool) -> Iterator[tuple]:
    out: list[tuple] = []
    before: dict[str, dict[str, Any]] = {}  # each file's previous values, by its path
    for imported, committed, status, rel_path, path, collection, commit, removed, text in versions:
        where = f"{collection}/{rel_path}" if rel_path is not None else path
        values = _fields(text)
        changed = _changed(before.get(where), values) or ["(layout only)"]
        before[where] = values
        shown = [name for name in changed if not wanted or name in wanted]
        if hide_signature and changed and set(changed) <= SIGNATURE_FIELDS:
            shown = []
        if shown or (not wanted and not (hide_signature and changed)):
            out.append((_time(committed or imported), status, where, commit, ", ".join(shown)))
        if removed is not None:
            out.append((_time(removed), "removed", where, None, ""))
    yield from reversed(out)


def _fields(text: str | None) -> dict[str, Any]:
    """A record's front-matter keys and its body (texts are records import accepted)."""
    if text is None:
        return {}
    content = text.lstrip("\ufeff").replace("\r\n", "\n")
    front, body = content, ""
    if content.startswith("---\n"):
        end = content.find("\n---", 3)
        if end != -1:
            front = content[4:end]
            body = content[end + 4 :].partition("\n")[2]
    try:
        loaded = yaml.load(front, Loader=_Loader)  # a safe loader (C if built)
    except yaml.YAMLError:
        loaded = None
    values = dict(loaded) if isinstance(loaded, dict) else {}
    values["body"] = body.strip() or None
    return {str(k): v for k, v in values.items()}


def _changed(before: dict[str, Any] | None, now: dict[str, Any]) -> list[str]:
    """The keys whose values differ; every key (but an empty body) for a first version."""
    if before is None:
        return [k for k, v in now.items() if v is not None]
    return [k for k in dict.fromkeys([*before, *now]) if before.get(k) != now.get(k)]


def _time(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime(ISO_UTC_FORMAT)
    return value
