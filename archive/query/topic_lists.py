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


def topic_texts(index: int, rows: Iterator[tuple]) -> Iterator[tuple]:
    """A `topics` column as CSV and TSV write topic_lists' lists: the JSON text
    json.dumps gives them (`["AI", "Computer Vision"]`), made from SQLite's text
    without parsing it where that gives the same characters (most rows: parsing
    and writing it again took a third of a CSV export)."""
    import json

    for row in rows:
        value = row[index]
        if isinstance(value, str) and value.startswith("["):
            text = _spaced(value)
            if text is None:
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if isinstance(parsed, list):
                    text = json.dumps(parsed, ensure_ascii=False)
            if text is not None and text != value:
                row = (*row[:index], text, *row[index + 1 :])
        yield row


def _spaced(text: str) -> str | None:
    """`["a","b"]` as json.dumps writes the list: `["a", "b"]`; None unless `text`
    is an array of strings that hold no quote, backslash or unprintable character
    (then the strings are exactly what lies between the `","`s)."""
    inner = text[2:-2]
    if (
        len(text) < 4
        or not text.startswith('["')
        or not text.endswith('"]')
        or "\\" in text
        or not text.isprintable()
        or '"' in inner.replace('","', "")
    ):
        return None
    return '["' + inner.replace('","', '", "') + '"]'
