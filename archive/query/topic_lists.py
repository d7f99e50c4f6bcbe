"""A `topics` column's JSON arrays as lists, for both read-only SQL runners."""

from __future__ import annotations

from collections.abc import Iterator


def topic_lists(index: int, rows: Iterator[tuple]) -> Iterator[tuple]:
    """A `topics` column's JSON arrays as lists, as PostgreSQL's json gives them.

    SQLite has no JSON type a view could declare: article_summary.topics arrives as
    the text of its json_group_array, which JSON output would quote as a string.
    """
    import json  # here, not at start: json compiles six regular expressions on import

    for row in rows:
        value = row[index]
        if isinstance(value, str) and value.startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                row = (*row[:index], parsed, *row[index + 1 :])
        yield row
