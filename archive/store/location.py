"""Where an archive is: `--db`, `$ARCHIVE_DB` or the default, as a file or a URL.

Free of SQLAlchemy, so that the read-only commands (`archive sql`, `archive
export`) start without loading it.
"""

from __future__ import annotations

import os

DEFAULT_DB = "archive.db"
BUSY_TIMEOUT_MS = 30_000


def resolve_location(db: str | None) -> str:
    """`--db`, else `$ARCHIVE_DB`, else archive.db in the current directory."""
    return db or os.environ.get("ARCHIVE_DB") or DEFAULT_DB


def is_url(location: str) -> bool:
    """`dialect://...` is a SQLAlchemy URL; anything else is a file path.

    So `file:x?mode=rw` is a file of that odd name, never a SQLite URI with options.
    """
    return "://" in location.split("?", 1)[0] and not location.startswith("file:")


def shown(location: str) -> str:
    """The location as messages print it: a URL's password replaced by ***.

    Without SQLAlchemy (see the module docstring), so by hand: the password is what
    lies between the first ':' and the last '@' of the part after '//'.
    """
    if not is_url(location):
        return location
    scheme, rest = location.split("://", 1)
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not at or ":" not in user:
        return location
    name = user.split(":", 1)[0]
    return f"{scheme}://{name}:***@{host}{slash}{path}"


def password_of(location: str) -> str | None:
    """A URL's password as written (percent-encoded or not), to scrub it from messages."""
    if not is_url(location):
        return None
    authority = location.split("://", 1)[1].partition("/")[0]
    user = authority.rpartition("@")[0]
    if ":" not in user:
        return None
    return user.split(":", 1)[1] or None
