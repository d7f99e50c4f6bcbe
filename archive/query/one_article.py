"""One article: finding it by URL, `archive related` and `archive show`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .. import identity
from ..errors import ArchiveError, UsageError
from ..record_format import ARTICLE_FIELDS
from ..rows import Rows
from .reader import Reader
from .sql import Sql
from .values import converted

# A URL the way `articles` and `related` print them: http(s), a host, a path, no
# query, fragment, port or user. Its key is very likely the host (lower case,
# without www.) and the path without a trailing slash.
_PLAIN_ADDRESS = re.compile(r"https?://(?:www\.)?([^/?#@:\s]+)(/[^?#\s]*)?", re.IGNORECASE)
# A YouTube video's usual links, whose key is its watch URL (identity._youtube_video).
_YOUTUBE_ADDRESS = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtu\.be/|youtube\.com/watch\?v=)([A-Za-z0-9_-]+)"
)


def _written_address(q: Sql, url: str) -> int | None:
    """The article that has `url` as one of its own addresses, exactly as written,
    found without normalizing the URL (ural takes a tenth of a second to load).

    The importer keys an article by every address it was given, so an address
    written on the article row has its key pointing at that row: the article found
    here is the one url_key() finds. The guessed key only narrows the search.
    """
    video = _YOUTUBE_ADDRESS.fullmatch(url)
    match = _PLAIN_ADDRESS.fullmatch(url)
    if video is not None:
        guess = f"youtube.com/watch?v={video.group(1)}"
    elif match is not None:
        guess = match.group(1).lower() + (match.group(2) or "").rstrip("/")
    else:
        return None
    written = q.bind(url)
    return q.scalar(
        "SELECT article.id FROM article_url JOIN article ON article.id = article_url.article_id"
        f" WHERE article_url.url_key = {q.bind(guess)} AND {written} IN"
        " (article.url, article.original_url, article.amp_url, article.cdn_amp_url)"
    )


def find_article(conn: Reader, url: str) -> int:
    article_id = _written_address(Sql(conn), url.strip())
    if article_id is not None:
        return article_id
    try:
        key = identity.url_key(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    q = Sql(conn)
    article_id = q.scalar(
        f"SELECT article_url.article_id FROM article_url WHERE article_url.url_key = {q.bind(key)}"
    )
    if article_id is None:
        # A row another tool wrote has no normalized keys (they need ural, which SQL
        # lacks): it is found by its URL exactly as written.
        q = Sql(conn)
        article_id = q.scalar(
            f"SELECT article.id FROM article WHERE article.url = {q.bind(url.strip())}"
            " ORDER BY article.id LIMIT 1"
        )
    if article_id is None:
        raise ArchiveError(f"no article with URL {url}")
    return article_id


def related_sql(q: Sql, article: str) -> str:
    """The articles `article` (an SQL expression of its id) links to as related,
    then those that link to it."""

    def side(direction: str, mine: str, theirs: str) -> str:
        return (
            f"SELECT '{direction}' AS direction, related_link.position, other.published_at,"
            " other.title, provider.name AS provider, provider.domain, other.url, other.is_stub,"
            " other.id AS other_id"
            f" FROM related_link JOIN article AS other ON other.id = related_link.{theirs}"
            " LEFT OUTER JOIN provider ON provider.id = other.provider_id"
            f" WHERE related_link.{mine} = {article}"
        )

    links_to = side("links to", "article_id", "related_article_id")
    linked_from = side("linked from", "related_article_id", "article_id")
    return (
        "SELECT r.direction, r.position, r.published_at, r.title, r.provider, r.domain,"
        f" r.url, r.is_stub FROM ({links_to} UNION {linked_from}) AS r"
        f" ORDER BY r.direction DESC, r.position, {q.text_order('r.url')}, r.other_id"
    )


def _related_rows(conn: Reader, article_id: int) -> Rows:
    q = Sql(conn)
    return q.rows(related_sql(q, q.bind(article_id)))


def related(conn: Reader, url: str) -> Rows:
    """The articles `url` links to as related, then the articles that link to it."""
    return _related_rows(conn, find_article(conn, url))


# The article's columns `show` lists, in its order: id, the record's fields but the
# blobs, is_stub; then (after provider, topics, images, links, file) the blobs,
# extra and body.
_SHOWN = ("id", *(f.column for f in ARTICLE_FIELDS if not f.blob), "is_stub")
_SHOWN_LAST = (*(f.column for f in ARTICLE_FIELDS if f.blob), "extra", "body")


# `show` lists this many of the other files that describe the article (--files: all).
SHOWN_FILES = 3


def show(conn: Reader, url: str, *, files: bool = False) -> Rows:
    """One article in full: (field, value) rows, and the same as one object (JSON);
    of the other files that describe it, the first few only unless `files`."""
    record = article_record(conn, find_article(conn, url), files=files)
    return Rows(["field", "value"], iter(_field_pairs(record)), layout="vertical", record=record)


def _article_row(conn: Reader, article_id: int) -> dict[str, Any]:
    q = Sql(conn)
    columns = ", ".join(f"article.{c}" for c in (*_SHOWN, *_SHOWN_LAST, "source_file_id"))
    names, found = conn.execute(
        f"SELECT {columns}, provider.name AS provider_name, provider.domain AS provider_domain"
        " FROM article LEFT OUTER JOIN provider ON provider.id = article.provider_id"
        f" WHERE article.id = {q.bind(article_id)}",
        q.params,
    )
    return dict(zip(names, next(converted(names, found)), strict=True))


def _topics_and_images(conn: Reader, article_id: int) -> dict[str, Any]:
    q = Sql(conn)
    topics = q.all(
        "SELECT topic.name FROM topic JOIN article_topic ON article_topic.topic_id = topic.id"
        f" WHERE article_topic.article_id = {q.bind(article_id)}"
        " ORDER BY article_topic.position"
    )
    q = Sql(conn)
    images = q.all(
        "SELECT image.url, image.width, image.height"
        " FROM image JOIN article_image ON article_image.image_id = image.id"
        f" WHERE article_image.article_id = {q.bind(article_id)}"
        " ORDER BY article_image.position"
    )
    return {
        "topics": [name for (name,) in topics],
        "images": [{"url": url, "width": width, "height": height} for url, width, height in images],
    }


def article_record(conn: Reader, article_id: int, *, files: bool = True) -> dict[str, Any]:
    """Everything the archive knows of one article, typed: topics a list, images and
    related links lists of objects; the other files all, or SHOWN_FILES of them
    (and how many more in `more_files`)."""
    row = _article_row(conn, article_id)
    record: dict[str, Any] = {name: row[name] for name in _SHOWN}
    record["provider"], record["provider_domain"] = row["provider_name"], row["provider_domain"]
    record.update(_topics_and_images(conn, article_id))
    links = list(_related_rows(conn, article_id).rows)
    for direction in ("links to", "linked from"):
        record[direction.replace(" ", "_")] = [
            {"url": link[6], "provider": link[4]} for link in links if link[0] == direction
        ]
    record["copies"] = _copies(conn, article_id)
    source = _source_of(conn, row["source_file_id"], row["is_stub"])
    record.update(source)
    record.update((name, row[name]) for name in _SHOWN_LAST)
    others = _other_files(conn, article_id, row["source_file_id"]) if source else []
    record["also_in_file"] = others if files else others[:SHOWN_FILES]
    if len(others) > len(record["also_in_file"]):
        record["more_files"] = len(others) - len(record["also_in_file"])
    return record


def _source_of(conn: Reader, file_id: Any, is_stub: Any) -> dict[str, Any]:
    q = Sql(conn)
    source = q.all(
        "SELECT source_file.path, source_file.imported_at, source_file.sha256"
        f" FROM source_file WHERE source_file.id = {q.bind(file_id)}"
    )
    if not source:
        return {}
    path, imported_at, sha256 = source[0]
    return {
        "named_in_file" if is_stub else "source_file": path,
        "imported_at": imported_at,
        "sha256": sha256,
    }


def _field_pairs(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The record as `show` lists it on a terminal: one (field, value) per line, a
    line for each image, related link and other file."""
    for name, value in record.items():
        if name == "images":
            for position, image in enumerate(value):
                width, height = image["width"], image["height"]
                size = f" ({width}x{height})" if width and height else ""
                yield f"image[{position}]", f"{image['url']}{size}"
        elif name in ("links_to", "linked_from"):
            for link in value:
                yield name, f"{link['url']} ({link['provider'] or 'unknown provider'})"
        elif name == "copies":
            yield from (_copy_line(copy) for copy in value)
        elif name == "also_in_file":
            yield from ((name, path) for path in value)
        elif name == "more_files":
            yield "also_in_file", f"… and {value} more (--files)"
        elif name == "named_in_file":
            yield "named in file", value
        else:
            yield name, value


def copies_sql(q: Sql, article: str) -> str:
    """The other copies in the story of `article` (an SQL expression of its id),
    oldest first, the story's first marked."""
    return (
        "SELECT other.published_at, other.title, provider.name AS provider, other.url,"
        " other.id = story.origin_article_id AS is_first FROM article_story AS mine"
        " JOIN story ON story.id = mine.story_id"
        " JOIN article_story AS theirs ON theirs.story_id = mine.story_id"
        " JOIN article AS other ON other.id = theirs.article_id"
        " LEFT JOIN provider ON provider.id = other.provider_id"
        f" WHERE mine.article_id = {article} AND other.id != mine.article_id"
        " ORDER BY other.published_at IS NULL, other.published_at, other.id"
    )


def _copies(conn: Reader, article_id: int) -> list[dict[str, Any]]:
    """The article's story (README: Stories): the other copies, the first marked."""
    q = Sql(conn)
    return [
        {"url": url, "provider": provider, "published_at": published_at, "first": bool(first)}
        for published_at, _title, provider, url, first in q.all(copies_sql(q, q.bind(article_id)))
    ]


def _copy_line(copy: dict[str, Any]) -> tuple[str, str]:
    published = copy["published_at"]
    when = published.date().isoformat() if published else "undated"
    provider = copy["provider"] or "unknown provider"
    return ("copy_first" if copy["first"] else "copy"), f"{copy['url']} ({provider}, {when})"


def _other_files(conn: Reader, article_id: int, shown: int) -> list[str]:
    """Other files whose current version describes the article (the README's "Several
    files, one article"), in import order. A file is its collection and path in it
    (before revision 0007: its path); a deleted file is no longer one."""
    q = Sql(conn)
    return [
        path
        for (path,) in q.all(
            "SELECT source_file.path FROM source_file"
            f" WHERE source_file.article_id = {q.bind(article_id)}"
            f" AND source_file.id != {q.bind(shown)} AND source_file.removed_at IS NULL"
            " AND NOT (EXISTS (SELECT later.id FROM source_file AS later"
            " WHERE later.id > source_file.id AND (later.collection_id = source_file.collection_id"
            " AND later.rel_path = source_file.rel_path OR later.collection_id IS NULL"
            " AND source_file.collection_id IS NULL AND later.path = source_file.path)))"
            " ORDER BY source_file.id"
        )
    ]
