"""One statement being written: its bound parameters and the fragments that differ
by engine.

The questions (counts.py, article_lists.py, timeline.py, one_article.py, stories.py)
write their SQL through a Sql, which binds every filter value as a parameter
(`:p0`, `:p1`, ...; never text pasted into SQL) and runs the statement on a Reader.
A CannedSql writes the same SQL for Datasette instead (serve/queries.py): a value
given as Param("topic") becomes `:topic`, and the keys the importer computes in
Python (identity.py) become calls of the SQL functions the serve plugin registers,
so that the web's canned queries are the CLI's own statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import identity
from ..rows import Rows
from .reader import Reader
from .values import converted, stored


@dataclass(frozen=True)
class Param:
    """A canned query's named parameter, standing where a filter value would
    (Filters(topics=[Param("topic")])): a CannedSql writes it as `:topic`."""

    name: str


def provider_keys(values: Sequence[str]) -> list[str]:
    """The keys a --provider value can match: its domain's, or (for a provider known
    only by name) its name's."""
    keys = []
    for value in values:
        keys.append(identity.domain_key(value))
        keys.append(identity.provider_key(value, None))
    return keys


class Sql:
    """One statement's parameters and the fragments that differ by dialect."""

    def __init__(self, reader: Reader | None, dialect: str | None = None) -> None:
        self.reader = reader
        self.postgres = (dialect or getattr(reader, "dialect", "sqlite")) == "postgresql"
        self.params: dict[str, Any] = {}
        # Booleans: the forms SQLAlchemy wrote, which the indexes were tuned for.
        self.false = "false" if self.postgres else "0"
        self.true = "true" if self.postgres else "1"

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return ":" + name

    def bind_all(self, values: Sequence[Any]) -> str:
        return "(" + ", ".join(self.bind(value) for value in values) + ")"

    def bind_instant(self, stamp: dt.datetime) -> str:
        """A UTC instant as each engine compares it: SQLite's ISO text, or a timestamp."""
        return self.bind(stamp if self.postgres else stored(stamp))

    def topic_keys(self, topics: Sequence[Any]) -> str:
        """`(key, ...)`: the keys of some topic names, for `topic.key IN ...`."""
        return self.bind_all([identity.topic_key(t) for t in topics])

    def provider_keys(self, providers: Sequence[Any]) -> str:
        """`(key, ...)`: the keys some --provider values can match."""
        return self.bind_all(provider_keys(providers))

    def text_order(self, expression: str) -> str:
        """An ORDER BY term for text that sorts as SQLite does, by code point:
        PostgreSQL would otherwise use the database's collation (en_US puts `a`
        before `B` and skips punctuation), and the engines would disagree."""
        return f'{expression} COLLATE "C"' if self.postgres else expression

    def _run(self, sql: str, stream: bool = False) -> tuple[list[str], Any]:
        if self.reader is None:
            raise TypeError("this statement is written for Datasette, not run")
        return self.reader.execute(sql, self.params, stream=stream)

    def rows(self, sql: str) -> Rows:
        columns, rows = self._run(sql, stream=True)
        return Rows(columns, converted(columns, rows))

    def all(self, sql: str) -> list[tuple]:
        """Every row, converted, read at once (for short answers)."""
        columns, rows = self._run(sql)
        return list(converted(columns, rows))

    def scalar(self, sql: str) -> Any:
        for row in self._run(sql)[1]:
            return row[0]
        return None


class CannedSql(Sql):
    """The same statements as SQLite SQL for Datasette, with `:name` parameters.

    Only Param values and whole numbers can be written into a canned query: any
    other value would have to be pasted in as text.
    """

    def __init__(self) -> None:
        super().__init__(None, "sqlite")

    def bind(self, value: Any) -> str:
        if isinstance(value, Param):
            return ":" + value.name
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise TypeError(f"a canned query takes its values as :parameters, not {value!r}")

    def topic_keys(self, topics: Sequence[Any]) -> str:
        return "(" + ", ".join(f"topic_key({self.bind(t)})" for t in topics) + ")"

    def provider_keys(self, providers: Sequence[Any]) -> str:
        keys = [
            f"domain_key({self.bind(p)}), provider_key({self.bind(p)}, NULL)" for p in providers
        ]
        return "(" + ", ".join(keys) + ")"


def where(conditions: Sequence[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""
