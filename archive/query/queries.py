"""The questions users ask of an archive, as functions returning rows.

One import for them all; each lives in a module by its job:

- counts.py: providers, topics, cooccur (counts of articles)
- article_lists.py: articles, search
- timeline.py: timeline, compare_timeline
- one_article.py: find_article, related, show
- stats.py: stats; unknown.py: why an answer is empty
- stories.py: the same counts by story (`--by-story`)

and beneath them sql.py (a statement's parameters and dialect fragments),
conditions.py (the shared WHERE conditions) and values.py (values as typed
Python). Plain SQL runs through a Reader (reader.py: sqlite3, or psycopg for
PostgreSQL), so a query command starts without loading SQLAlchemy. Every filter
value is a bound parameter, never text pasted into SQL. Each function returns
`rows.Rows` (column names and a row stream), which the CLI formats; a library
user can iterate the rows directly:

    with open_reader("news.db") as reader:
        for row in queries.providers(reader, Filters(topics=["AI"])).rows: ...

Values come out as they did when these were SQLAlchemy queries: timestamps as
aware UTC datetimes, booleans as bool, JSON columns parsed.
"""

from __future__ import annotations

# The names outside __all__ stay importable from here, as they were before the split.
# ruff: noqa: F401
from .article_lists import ARTICLES_COMPACT, articles, search
from .counts import cooccur, providers, topics
from .filters import PERIODS, Filters, parse_date
from .one_article import SHOWN_FILES, _written_address, article_record, find_article, related, show
from .reader import Reader, open_reader
from .stats import TABLE_NAMES, stats
from .timeline import MAX_PERIODS, compare_timeline, timeline
from .unknown import close_names, unknown_names
from .values import ISO_UTC_FORMAT

__all__ = [
    "PERIODS",
    "Filters",
    "Reader",
    "articles",
    "compare_timeline",
    "cooccur",
    "find_article",
    "open_reader",
    "parse_date",
    "providers",
    "related",
    "search",
    "show",
    "stats",
    "timeline",
    "topics",
    "unknown_names",
]
