"""A user's SQL text, looked at before it runs: comments that never end, and text
that is nothing but comments.

SQLite runs `SELECT 1 /* forgot to close` as if the comment closed at the end,
so a statement cut short by a bad paste or a truncated file runs silently; and
SQL made of comments alone runs nothing and prints nothing. Both are refused
here, in words, with the usage exit status, on both engines.
"""

from __future__ import annotations

import re

from ..errors import UsageError
from ..messages import printable

# What may hide a comment marker: quoted strings and names (SQLite's [name] and
# `name` too), PostgreSQL's dollar quotes; then the comments themselves.
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'?"""  # 'text', '' inside
    r"""|"(?:[^"]|"")*"?"""  # "name"
    r"|`[^`]*`?|\[[^\]]*\]?"  # `name`, [name]
    r"|\$\$.*?(?:\$\$|\Z)|\$(?P<tag>[A-Za-z_]\w*)\$.*?(?:\$(?P=tag)\$|\Z)"  # $$..$$, $t$..$t$
    r"|--[^\n]*"  # -- to the end of the line
    r"|/\*.*?(?P<end>\*/|\Z)",  # /* ... */, or to the end: unterminated
    re.DOTALL,
)


def checked_sql(sql: str, *, source: str | None = None) -> str:
    """`sql` as given, once it is known to hold a statement and no comment left open.

    Raises UsageError for SQL that is empty or only comments, and for a `/*` that
    no `*/` closes (naming its line, and `source`, the file it came from).
    """
    where = f"{printable(source)}: " if source else ""
    rest: list[str] = []
    position = 0
    for match in _TOKENS.finditer(sql):
        if match.group(0).startswith("/*") and not match.group("end"):
            line = sql.count("\n", 0, match.start()) + 1
            place = f"{printable(source)}, line {line}" if source else f"line {line} of the SQL"
            raise UsageError(f"{place}: a /* comment is never closed: end it with */")
        if match.group(0).startswith(("--", "/*")):
            rest.append(sql[position : match.start()])
            position = match.end()
    rest.append(sql[position:])
    if not "".join(rest).strip().strip(";").strip():
        raise UsageError(
            f"{where}no SQL given: write one statement, e.g. 'SELECT * FROM article_summary'"
            if not sql.strip()
            else f"{where}the SQL is only comments: write one statement after them"
        )
    return sql
