"""Run a user's own SQL against a PostgreSQL archive without letting it change anything.

A read-only transaction alone is not enough: a text of several statements could
switch it off (`SET transaction_read_only = off; DELETE ...`), and a superuser
may `COPY ... TO PROGRAM` even from one. So, locks that back each other up
(tests/test_postgres.py tries each attack):
1. Each user statement is sent alone through the extended protocol as a prepared
   statement (psycopg's `prepare=True`): the server refuses a text of several.
2. It runs inside `BEGIN READ ONLY`, which is rolled back afterwards, with
   `SET LOCAL statement_timeout` from --timeout: the server stops the statement
   at the deadline, between rows (one value is at most 1 GB on PostgreSQL).
3. A superuser is refused unless the user passes --allow-superuser: connect as a
   role that may only read (`archive db grant-reader ROLE` creates one), whose
   privileges refuse writes, COPY TO PROGRAM and the like on their own.

psycopg loads only here, and only for a PostgreSQL archive.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from decimal import Decimal
from typing import Any

from ..errors import ArchiveError, ArchiveUnavailable, QueryLimitError
from ..rows import Rows
from ..store.location import scrubbed, shown
from ..store.schema_version import HEAD_REVISION, check_revision
from .names import export_key, ordered_by_key, quoted
from .topic_lists import topic_lists

# PostgreSQL type OIDs whose values are converted to what the SQLite path gives.
_TIMESTAMPTZ, _TIMESTAMP, _DATE, _TIME, _NUMERIC = 1184, 1114, 1082, 1083, 1700
_JSON_TYPES = (114, 3802)  # json, jsonb


def _utc_text(value: dt.datetime) -> str:
    """A timestamp as SQLite stores it: `YYYY-MM-DDTHH:MM:SSZ` (fractions if any)."""
    if value.utcoffset() is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat() + "Z"


def _converter(type_code: int) -> Callable[[Any], Any] | None:
    if type_code == _TIMESTAMPTZ:
        return _utc_text
    if type_code == _TIMESTAMP:
        return lambda value: value.isoformat()
    if type_code in (_DATE, _TIME):
        return lambda value: value.isoformat()
    if type_code == _NUMERIC:  # SQLite's avg() and friends give floats
        return lambda value: float(value) if isinstance(value, Decimal) else value
    return None  # bool, int, float, text


def _json_text(value: Any) -> str:
    """JSON built by an expression, as SQLite's json functions give it: compact text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# :name outside strings, quoted names, dollar quotes and comments; not `::` casts.
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|(\$[A-Za-z_0-9]*\$).*?\1|::|:([A-Za-z_]\w*)""",
    re.DOTALL,
)


def to_psycopg(sql: str, params: Mapping[str, Any]) -> str:
    """`:name` parameters (as archive sql takes them) as psycopg's `%(name)s`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name is None:
            return match.group(0).replace("%", "%%")
        if name not in params:
            raise ArchiveError(f"no value for :{name} (give one with -p {name} VALUE)")
        return f"%({name})s"

    out, last = [], 0
    for match in _TOKENS.finditer(sql):
        out.append(sql[last : match.start()].replace("%", "%%"))
        out.append(replace(match))
        last = match.end()
    out.append(sql[last:].replace("%", "%%"))
    return "".join(out)


class ReadOnlyPostgresQuery:
    """A connection to a PostgreSQL archive, for one read-only user query at a time."""

    def __init__(self, location: str, *, timeout: float, allow_superuser: bool = False) -> None:
        from ..store.database import POSTGRES_DRIVER_HINT, to_url

        try:
            import psycopg
        except ImportError:
            raise ArchiveUnavailable(POSTGRES_DRIVER_HINT) from None
        self._psycopg = psycopg
        self.location = location
        self.timeout = timeout
        self._table_oids: set[int] | None = None
        conninfo = to_url(location).set(drivername="postgresql").render_as_string(False)
        try:
            self.connection = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise ArchiveUnavailable(
                f"cannot open archive {shown(location)}: {self._line(exc)}"
            ) from None
        try:
            self.connection.execute("SET TIME ZONE 'UTC'")
            user, superuser = self.connection.execute(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() or (None, False)
            revision = self._revision()
        except psycopg.Error as exc:
            self.close()
            raise ArchiveUnavailable(
                f"cannot read archive {shown(location)}: {self._line(exc)}"
            ) from None
        if superuser and not allow_superuser:
            self.close()
            raise ArchiveError(
                f"refusing to run your SQL as {user}, a superuser (it could run programs on"
                " the server): connect as a role that may only read (archive db grant-reader"
                " ROLE), or pass --allow-superuser"
            )
        if revision != HEAD_REVISION:
            self.close()
            from ..store.database import _known_revisions

            check_revision(
                shown(location), revision or None, _known_revisions,
                empty_version_table=revision == "",
            )  # fmt: skip

    def _revision(self) -> str | None:
        """The schema revision; "" for an empty version table, None for none."""
        if self.connection.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:
            return None
        row = self.connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else ""

    def _line(self, exc: BaseException) -> str:
        return scrubbed(" ".join(str(exc).split()), self.location)

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        """Run one statement, read-only, and return its rows. Errors are one line."""
        params = dict(params or {})
        text = to_psycopg(sql, params)
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN READ ONLY")
            milliseconds = max(1, round(self.timeout * 1000))
            cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
            # prepare=True: a prepared statement is one statement, or the server refuses it.
            cursor.execute(text, params, prepare=True)
            columns = [d.name for d in cursor.description or ()]
            converters = self._converters(cursor)
            rows = cursor.fetchall() if cursor.description else []
        except self._psycopg.Error as exc:
            errors = self._psycopg.errors
            if isinstance(exc, (errors.QueryCanceled, errors.ProgramLimitExceeded)):
                raise QueryLimitError(self._explain(exc)) from None
            raise ArchiveError(self._explain(exc)) from None
        finally:
            self._roll_back()
        converted = self._converted(rows, converters)
        if "topics" in columns:  # a view's topic array, as the SQLite path gives it
            converted = topic_lists(columns.index("topics"), converted)
        return Rows(columns, converted)

    def _converters(self, cursor: Any) -> list[Callable[[Any], Any] | None]:
        """How to turn each column's values into what the SQLite path gives.

        JSON is parsed where SQLite parses it, in a table's own JSON column (its
        declared type); JSON an expression or a view builds is text there, as here.
        """
        description = cursor.description or ()
        result = cursor.pgresult
        converters = []
        for index, column in enumerate(description):
            if column.type_code in _JSON_TYPES:
                table = result.ftable(index) if result is not None else 0
                converters.append(None if table in self._tables() else _json_text)
            else:
                converters.append(_converter(column.type_code))
        return converters

    def _tables(self) -> set[int]:
        """The OIDs of the archive's tables (not views)."""
        if self._table_oids is None:
            rows = self.connection.execute(
                "SELECT c.oid FROM pg_class c WHERE c.relkind IN ('r', 'p')"
                " AND c.relnamespace = current_schema()::regnamespace"
            ).fetchall()
            self._table_oids = {oid for (oid,) in rows}
        return self._table_oids

    def select_all(self, name: str) -> str:
        """SELECT every column of table or view `name` that SQLite has too (not the
        search column, which only PostgreSQL has)."""
        rows = self.run(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = :name AND data_type <> 'tsvector'"
            " ORDER BY ordinal_position",
            {"name": name},
        )
        types = dict(rows.rows)
        # pg_catalog, not information_schema: a reader role sees no constraints there.
        primary_key = self.run(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indisprimary AND c.relname = :name"
            " AND c.relnamespace = current_schema()::regnamespace"
            " ORDER BY array_position(i.indkey::int2[], a.attnum)",
            {"name": name},
        )
        key = export_key(name, [c for (c,) in primary_key.rows], list(types))
        # Only what both engines can compare alike (PostgreSQL's json has no order).
        key = [c for c in key if types.get(c) not in ("json", "jsonb")]
        text = {c for c in key if types.get(c) in ("text", "character varying")}
        columns = ", ".join(quoted(c) for c in types)
        return f"SELECT {columns} FROM {quoted(name)}{ordered_by_key(name, key, text)}"

    def _roll_back(self) -> None:
        """End the statement's transaction, whatever it did (nothing, being read-only)."""
        # If the connection is gone, the server ended the transaction itself.
        with suppress(self._psycopg.Error):
            self.connection.execute("ROLLBACK")

    @staticmethod
    def _converted(
        rows: list[tuple], converters: list[Callable[[Any], Any] | None]
    ) -> Iterator[tuple]:
        if not any(converters):
            yield from rows
            return
        for row in rows:
            yield tuple(
                value if convert is None or value is None else convert(value)
                for value, convert in zip(row, converters, strict=True)
            )

    def _explain(self, exc: BaseException) -> str:
        errors = self._psycopg.errors
        message = self._line(exc)
        if isinstance(exc, errors.QueryCanceled):
            return f"query interrupted: it ran longer than {self.timeout:g} s (--timeout)"
        if "multiple commands" in message:
            return "one statement at a time, please (no ';' between statements)"
        if isinstance(exc, (errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            return f"not allowed: archive sql is read-only ({message})"
        return f"SQL error: {message}"

    def names(self) -> list[str]:
        """The tables and views this role may read, tables first (as on SQLite)."""
        rows = self.run(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_type, table_name"
        )
        return [name for (name,) in rows.rows]

    def close(self) -> None:
        self.connection.close()
