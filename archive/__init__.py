"""archive: news-record files into a queryable SQLite (or PostgreSQL) archive.

The library (docs/library.md)::

    from archive import Filters, import_files, open_reader, providers

    import_files("news.db", ["data/"])
    with open_reader("news.db") as reader:
        for row in providers(reader, Filters(topics=["AI"])).rows:
            print(row)

Names load on first use (module __getattr__): `import archive`, which every
`archive` command does first, costs nothing, and reading loads no SQLAlchemy.
"""

from __future__ import annotations

# pyproject.toml reads the version from here; `archive --version` prints it without
# asking importlib.metadata (30 ms at every start).
__version__ = "0.1.0"

# Not `from typing import TYPE_CHECKING`: `archive --version` and `archive sql` start
# without importing typing (tests/test_startup.py).
TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__
    from typing import Any

    from .api import (
        DumpResult,
        Filters,
        Location,
        Reader,
        Rows,
        articles,
        cooccur,
        dump,
        explain_story,
        export,
        history,
        import_files,
        import_git,
        largest_stories,
        open_archive,
        open_reader,
        providers,
        related,
        run_sql,
        search,
        show,
        stats,
        timeline,
        topics,
        unknown_names,
        write_rows,
    )
    from .errors import (
        EXIT_STATUSES,
        ArchiveError,
        ArchiveUnavailable,
        BusyError,
        EmptyAnswer,
        OutputError,
        QueryLimitError,
        RecordError,
        SchemaOutOfDate,
        UsageError,
    )
    from .ingest.summary import ImportSummary
    from .query.filters import PERIODS, parse_date
    from .store.database import Archive

_ERRORS = (
    "EXIT_STATUSES", "ArchiveError", "ArchiveUnavailable", "BusyError", "EmptyAnswer",
    "OutputError", "QueryLimitError", "RecordError", "SchemaOutOfDate", "UsageError",
)  # fmt: skip
_API = (
    "DumpResult", "Filters", "Location", "Reader", "Rows", "articles", "cooccur", "dump",
    "explain_story", "export", "history", "import_files", "import_git", "largest_stories",
    "open_archive", "open_reader", "providers", "related", "run_sql", "search", "show",
    "stats", "timeline", "topics", "unknown_names", "write_rows",
)  # fmt: skip
# Name -> the module that defines it. Types from the heavier modules (Archive,
# ImportSummary) load those modules only when asked for.
_WHERE: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "archive.errors"),
    **dict.fromkeys(_API, "archive.api"),
    "PERIODS": "archive.query.filters",
    "parse_date": "archive.query.filters",
    "ImportSummary": "archive.ingest.summary",
    "Archive": "archive.store.database",
}

# Also written out whole, as tools read it; tests/test_library.py checks it is _WHERE's.
__all__ = [
    "EXIT_STATUSES",
    "PERIODS",
    "Archive",
    "ArchiveError",
    "ArchiveUnavailable",
    "BusyError",
    "DumpResult",
    "EmptyAnswer",
    "Filters",
    "ImportSummary",
    "Location",
    "OutputError",
    "QueryLimitError",
    "Reader",
    "RecordError",
    "Rows",
    "SchemaOutOfDate",
    "UsageError",
    "articles",
    "cooccur",
    "dump",
    "explain_story",
    "export",
    "history",
    "import_files",
    "import_git",
    "largest_stories",
    "open_archive",
    "open_reader",
    "parse_date",
    "providers",
    "related",
    "run_sql",
    "search",
    "show",
    "stats",
    "timeline",
    "topics",
    "unknown_names",
    "write_rows",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'archive' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
