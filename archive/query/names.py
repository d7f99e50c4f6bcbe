"""Names in a SQLite archive, for shell completion: topics, provider domains, tables.

Plain sqlite3 on a read-only handle, no SQLAlchemy: these answer a Tab key press, so
they must start fast, never create or change a file, and never fail loudly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path

from ..errors import ArchiveUnavailable
from ..store.location import open_mode, sidecars_exist, sqlite_uri, tidy_sidecars

# What `archive export NAME` may name (readonly_sql's names() lists the same).
EXPORTABLE = (
    "type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'article_fts%'"
)
# What `archive export VIEW` orders a view's rows by: a key unique in it, as a
# table's rows are ordered by its primary key (tests/test_postgres.py checks that
# every view has one, and that both engines export the same bytes).
VIEW_KEYS = {
    "article_summary": ("id",),
    "topic_article": ("article_id", "topic"),
    "provider_summary": ("id",),
    "related_summary": ("article_id", "position"),
}
# Enough to choose from on a screen; a real archive may have thousands of topics.
LIMIT = 200


def quoted(name: str) -> str:
    return '"{}"'.format(name.replace('"', '""'))


def ordered_by_key(name: str, key: Sequence[str], text: Collection[str] = ()) -> str:
    """`ORDER BY` the key columns (`text`: those to sort by code point on
    PostgreSQL, where they would follow the database's collation)."""
    terms = [quoted(c) + (' COLLATE "C"' if c in text else "") for c in key]
    return f" ORDER BY {', '.join(terms)}" if terms else ""


def export_key(name: str, primary_key: Sequence[str], columns: Sequence[str]) -> Sequence[str]:
    """The columns `archive export` orders `name` by: its primary key, the view's
    key, or (a view another tool made) every column."""
    return primary_key or VIEW_KEYS.get(name) or columns


def _like(prefix: str) -> str:
    """A LIKE pattern for names starting with `prefix` (its % and _ taken literally)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _names(path: str, sql: str, parameters: tuple[str, ...]) -> list[str]:
    """The first column of `sql` on the archive at `path`; [] for anything that fails
    (no such file, not an archive, an older schema, locked)."""
    file = Path(path)
    if not file.is_file():
        return []  # mode=ro would fail anyway; this also keeps SQLite from trying
    # As every reader (location.open_mode): through SQLite's -shm file, or immutable
    # when the archive is frozen, or not at all. A read-only connection may create
    # -wal/-shm files, which a Tab key press must not leave behind.
    try:
        mode = open_mode(path)
    except ArchiveUnavailable:
        return []
    existed = sidecars_exist(file)
    try:
        uri = sqlite_uri(path, "immutable" if mode == "immutable" else "ro")
        connection = sqlite3.connect(uri, uri=True, timeout=0.5)
    except sqlite3.Error:
        return []
    try:
        return [row[0] for row in connection.execute(sql, parameters) if row[0]]
    except sqlite3.Error:
        return []
    finally:
        connection.close()
        if mode == "rw" and not existed:
            tidy_sidecars(file)


def topic_names(path: str, prefix: str = "", limit: int = LIMIT) -> list[str]:
    """Topic names starting with `prefix` (any case), as first spelled, by name."""
    return _names(
        path,
        "SELECT name FROM topic WHERE name LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE"
        f" LIMIT {int(limit)}",
        (_like(prefix),),
    )


def provider_domains(path: str, prefix: str = "", limit: int = LIMIT) -> list[str]:
    """Provider domains as --provider matches them (lowercased, without `www.`: a
    provider's key) that start with `prefix` read the same way."""
    # Here: identity compiles its regular expressions on import, which `archive
    # sql` (whose start this module is on) does not need.
    from ..identity import domain_key

    return _names(
        path,
        "SELECT key FROM provider WHERE key NOT LIKE 'name:%' AND key LIKE ? ESCAPE '\\'"
        f" ORDER BY key LIMIT {int(limit)}",
        (_like(domain_key(prefix)),),
    )


def table_names(path: str, prefix: str = "") -> list[str]:
    """The tables and views `archive export NAME` takes, starting with `prefix`."""
    return _names(
        path,
        f"SELECT name FROM sqlite_master WHERE {EXPORTABLE}"
        " AND name LIKE ? ESCAPE '\\' ORDER BY type, name",
        (_like(prefix),),
    )
