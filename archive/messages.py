"""Putting a path or a value into a message: escaped, readable and short.

A message is one line on a terminal. File names and record values are the user's
(or an attacker's) text: a line break in a file name could forge a `rejected:`
line, an escape sequence could reach the terminal raw, a Python repr shows
`datetime.date(2020, 1, 1)` where the file says 2020-01-01, and a 5,000-digit
number would fill the screen. Everything that puts a path or a value into a
message goes through `printable` (paths) or `shown` (values).
"""

from __future__ import annotations

import datetime as dt
import sys

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Values longer than this are cut: enough to recognise one, short enough for a line.
LONGEST = 40
ELLIPSIS = "…"

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every character a terminal would act on (line breaks, escape
    sequences, bidi controls, lone surrogates) written as a backslash escape."""
    if text.isprintable():  # the usual case, and a fast one
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def cut(text: str, longest: int = LONGEST) -> str:
    """`text` cut to its first `longest` characters and an ellipsis if longer."""
    return text if len(text) <= longest else text[:longest] + ELLIPSIS


def shown(value: Any, longest: int = LONGEST) -> str:
    """A value as a message shows it: as the record would write it, escaped and cut.

    Text is quoted ('yesterday'); dates and timestamps are ISO 8601; booleans and
    null are YAML's true, false and null; lists and mappings are named, not listed.
    """
    if isinstance(value, str):
        return "'" + printable(cut(value, longest)) + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        try:
            return cut(str(value), longest)
        except ValueError:  # beyond Python's limit on int-to-text conversion
            return f"a number of more than {sys.get_int_max_str_digits():,} digits"
    if isinstance(value, float):
        return cut(repr(value), longest)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"binary data ({len(value):,} bytes)"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return printable(cut(str(value), longest))
