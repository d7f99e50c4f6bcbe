"""CSV and TSV exports write a topics column from SQLite's JSON text (topic_texts),
not from parsed lists (topic_lists): both must give the very same characters."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from archive.output.formats import text_value
from archive.query.topic_lists import topic_lists, topic_texts


def as_written(value: object) -> tuple[str, str]:
    """(the text from topic_texts, the text CSV writes of topic_lists' value)."""
    (fast,) = next(topic_texts(0, iter([(value,)])))
    (slow,) = next(topic_lists(0, iter([(value,)])))
    return text_value(fast), text_value(slow)


def sqlite_array(names: list[str]) -> str:
    """The array as the article_summary view makes it (json_group_array)."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, name TEXT)")
    connection.executemany("INSERT INTO t (name) VALUES (?)", [(n,) for n in names])
    (text,) = connection.execute("SELECT json_group_array(name) FROM (SELECT name FROM t ORDER BY i)").fetchone()  # fmt: skip
    connection.close()
    return text


@given(st.lists(st.text(), max_size=6))
def test_sqlite_arrays_read_the_same(names: list[str]) -> None:
    fast, slow = as_written(sqlite_array(names))
    assert fast == slow


@given(st.text(alphabet='[]",\\ ab\n\x7f\u2028é', max_size=12).map(lambda text: "[" + text))
def test_any_text_that_looks_like_an_array_reads_the_same(text: str) -> None:
    fast, slow = as_written(text)
    assert fast == slow


def test_the_cases_a_quick_look_gets_wrong() -> None:
    for text in ['[","]', '["]', '[""]', '["a","b"]', '["a", "b"]', '["a",","b"]', "[]",
                 '["a\\"","b"]', '["x"]junk', '[1,2]', '["\\u00e9"]', '["\u2028"]']:  # fmt: skip
        fast, slow = as_written(text)
        assert fast == slow, text
    assert as_written('["AI","Computer Vision"]')[0] == '["AI", "Computer Vision"]'
