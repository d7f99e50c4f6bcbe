"""The `table` format: rows laid out for a person at a terminal.

A table is as wide as the terminal (COLUMNS, else the terminal's own size; a
table written to a pipe or file with neither is as wide as its values). Widths
are counted in display cells, not characters: CJK and most emoji take two
cells, combining marks none. When a table is too wide, the widest text columns
are wrapped first, each down to a readable floor; numbers and values a user
copies (URLs) are never wrapped or cut. A table that cannot fit that way is
shown as one block of `column │ value` lines per row (as psql's expanded mode
does), where every value wraps in full. `Rows(layout="vertical")` asks for that
view for rows that are one record's (field, value) pairs, such as `show`'s.

Nothing is ever truncated: what the table cannot hold on one line it wraps.
Measured by hand with unicodedata rather than with rich: importing rich.table
costs ~17 ms (a quarter of `archive sql` on a small query) and rendering 1,000
article rows with it ~0.8 s, against ~15 ms here for a table that fits and ~0.1 s
for one whose text wraps; rich's layout would still need the fit-or-expand logic.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any, TextIO

from ..rows import OutputOptions, Rows

TABLE_MAX_ROWS = 1000
GAP = "  "
SEPARATOR = " │ "
# A terminal narrower than this is laid out as if it were this wide: below it no
# column keeps a useful width.
MIN_WIDTH = 20
# What a terminal that does not report its size is taken to be.
DEFAULT_WIDTH = 80
# A wrapped text column keeps at least this many cells (a date, a short word).
TEXT_FLOOR = 10
BAR_WIDTH = 30
# A value that starts like a URL is one a user copies: never wrapped within a row.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S")
# Line breaks and tabs become spaces within a table cell; other control characters
# (an escape sequence could restyle the terminal) become a visible replacement.
_ONE_LINE = {**{c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0)]}, 0x09: " ", 0x0A: " ",
             0x0D: " "}  # fmt: skip
_IN_LINE = {**_ONE_LINE, 0x09: "    "}
# A timestamp as the archive writes it (formats._timestamp): shown as its date when
# a table has no room for it whole.
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
# A word that is a domain, a URL or a timestamp (it has a dot between letters, ://
# or a T between digits): a table may break other long words, never these.
_WHOLE_WORD = re.compile(r"\w\.\w|://|\dT\d")
# Where an over-long word may break before the edge of its cell.
_SOFT_BREAKS = "_-/"


def terminal_width(stream: TextIO) -> int | None:
    """Cells per line: COLUMNS if set (as shutil.get_terminal_size reads it), else
    the terminal's width; None (no limit) for a pipe or a file."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if not stream.isatty():
        return None
    try:
        size = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        size = 0
    return max(size or DEFAULT_WIDTH, MIN_WIDTH)


def _clusters(text: str) -> list[tuple[str, int]]:
    """`text` as the glyphs a terminal draws and their widths in cells.

    A combining mark, a variation selector or a zero-width joiner and the character
    it joins belong to the glyph before them; VS16 asks for the two-cell emoji form.
    """
    glyphs: list[list[Any]] = []
    joined = False
    for char in text:
        zero = unicodedata.category(char) in ("Mn", "Me", "Cf")
        if glyphs and (zero or joined):
            glyph = glyphs[-1]
            glyph[0] += char
            if char == "\ufe0f":
                glyph[1] = 2
            joined = char == "\u200d"
            continue
        joined = False
        width = 0 if zero else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        glyphs.append([char, width])
    return [(glyph, width) for glyph, width in glyphs]


def display_width(text: str) -> int:
    """Cells `text` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(width for _, width in _clusters(text))


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _break_word(word: str, width: int) -> list[str]:
    """A word wider than `width` in pieces that fit: a timestamp before its `T`, else
    after the last `/` (not a `//`), `_` or `-` in the piece's last two thirds, else
    at the edge."""
    pieces: list[str] = []
    glyphs = _clusters(word)
    while glyphs:
        used, end = 0, 0
        while end < len(glyphs) and used + glyphs[end][1] <= width:
            used += glyphs[end][1]
            end += 1
        end = max(end, 1)  # a two-cell glyph in a one-cell column still moves on
        if end < len(glyphs):
            chars = [glyph for glyph, _ in glyphs[: end + 2]]
            times = [
                i
                for i in range(1, end + 1)
                if chars[i] == "T"
                and chars[i - 1].isdigit()
                and chars[i + 1 : i + 2] != []
                and chars[i + 1].isdigit()
            ]
            soft = [
                i + 1
                for i in range(max(1, end // 3), end)
                if chars[i] in _SOFT_BREAKS
                and not (chars[i] == "/" and "/" in chars[i - 1 : i + 2 : 2])
            ]
            end = times[-1] if times else soft[-1] if soft else end
        pieces.append("".join(glyph for glyph, _ in glyphs[:end]))
        glyphs = glyphs[end:]
    return pieces


def wrap(text: str, width: int) -> list[str]:
    """`text` (one line) as lines of at most `width` cells, broken at spaces; a
    word longer than a line is broken too (never cut short)."""
    if display_width(text) <= width:
        return [text]
    lines: list[str] = []
    current: list[str] = []
    used = 0
    for token in re.findall(r" +|[^ ]+", text):
        size = display_width(token)
        if token[0] == " ":
            if (current or not lines) and used + size <= width:
                current.append(token)
                used += size
            continue
        if used + size > width and current:
            line = "".join(current).rstrip(" ")
            lines += [line] if line else []  # (a line of nothing but indentation is dropped)
            current, used = [], 0
        if size <= width:
            current.append(token)
            used += size
            continue
        # Longer than a line: it starts one, so that its pieces line up under each other.
        *full, last = _break_word(token, width)
        lines.extend(full)
        current, used = [last], display_width(last)
    lines.append("".join(current).rstrip(" "))
    return lines


def _text(value: Any, value_text: Callable[[Any], str]) -> str:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)  # topics, to read (CSV and JSON keep the array)
    if isinstance(value, float) and abs(value) < 1e6:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return value_text(value)


def _fit(natural: list[int], floors: list[int], room: int) -> list[int] | None:
    """Column widths within `room` cells, narrowing the widest columns first (none
    below its floor); None when even the floors do not fit."""
    if sum(natural) <= room:
        return natural
    if sum(floors) > room:
        return None

    def widths(level: int) -> list[int]:
        return [min(n, max(level, f)) for n, f in zip(natural, floors, strict=True)]

    low, high = 0, max(natural)
    while low < high:  # the highest level at which everything fits
        middle = (low + high + 1) // 2
        if sum(widths(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    fitted = widths(low)
    spare = room - sum(fitted)
    for i in sorted(range(len(fitted)), key=lambda i: -natural[i]):
        if spare and fitted[i] < natural[i]:
            fitted[i] += 1
            spare -= 1
    return fitted


# Laying out a table wraps the same cells at the same widths more than once (to
# measure, then to print); 1,000 rows of wrapped text took ~4 times as long without.
_wrap = lru_cache(maxsize=1 << 16)(wrap)


def _wrapped_width(texts: list[str], width: int) -> int:
    return max(display_width(line) for text in texts for line in _wrap(text, width))


def _tighten(widths: list[int], natural: list[int], texts: list[list[str]], room: int) -> list[int]:
    """Narrow each wrapped column to the lines it really has (a timestamp wrapped at
    its `T` leaves cells unused) and give what that frees to the widest columns that
    still wrap."""
    widths = list(widths)
    for _ in range(2 * len(widths)):
        widths = [
            w if w >= n else _wrapped_width(column, w)
            for w, n, column in zip(widths, natural, texts, strict=True)
        ]
        spare = room - sum(widths)
        wrapping = [i for i in range(len(widths)) if widths[i] < natural[i]]
        if spare <= 0 or not wrapping:
            break
        widest = max(wrapping, key=lambda i: natural[i])
        widths[widest] = min(natural[widest], widths[widest] + spare)
    return widths


def _floors(
    columns: list[str], by_column: list[list[str]], whole: list[bool], break_words: bool
) -> list[int]:
    """The narrowest each column may be: a header is never split, nor a value that
    is one word (a URL, a domain, a timestamp, a number); text wraps at spaces, so
    its floor is its longest word, or with `break_words` at most TEXT_FLOOR."""
    floors = []
    for name, texts, atomic in zip(columns, by_column, whole, strict=True):
        header = display_width(name)
        if atomic or all(" " not in text.strip() for text in texts):
            floors.append(max([header, *(display_width(text) for text in texts)]))
            continue
        words = [word for text in texts for word in text.split()]
        longest = max((display_width(w) for w in words), default=0)
        if break_words:
            # Even then a domain, URL or timestamp within text stays whole.
            kept = max((display_width(w) for w in words if _WHOLE_WORD.search(w)), default=0)
            longest = max(kept, min(longest, TEXT_FLOOR))
        floors.append(max(header, longest))
    return floors


def _table_lines(
    columns: list[str], shown: list[Sequence[Any]], texts: list[list[str]], result: Rows,
    stream: TextIO, options: OutputOptions, width: int | None, break_words: bool = False,
) -> list[str] | None:  # fmt: skip
    """The rows (their values and texts) as a table, or None when they do not fit
    in `width` as one without splitting a header or a one-word value (or, with
    `break_words`, a word of text longer than TEXT_FLOOR)."""
    cells = [[text.translate(_ONE_LINE) for text in row] for row in texts]
    count = len(columns)
    by_column = [[row[i] for row in cells] for i in range(count)]
    numeric = [
        bool(shown) and all(isinstance(row[i], (int, float)) or row[i] is None for row in shown)
        for i in range(count)
    ]
    whole = [
        numeric[i] or any(isinstance(row[i], str) and _URL.match(row[i]) for row in shown)
        for i in range(count)
    ]
    natural = [
        max(display_width(text) for text in [columns[i], *by_column[i]]) for i in range(count)
    ]
    floors = _floors(columns, by_column, whole, break_words)
    room = None if width is None else width - len(GAP) * (count - 1)
    widths = natural if room is None else _fit(natural, floors, room)
    if widths is None:
        return None
    if room is not None and widths != natural:
        widths = _tighten(
            widths, natural, [[columns[i], *by_column[i]] for i in range(count)], room
        )
    right = list(numeric)
    if result.bar_column in columns and stream.isatty():
        columns, widths, right = _with_bars(
            columns, widths, right, shown, cells, columns.index(result.bar_column), width
        )

    def lines(values: list[str]) -> Iterator[str]:
        wrapped = [
            _wrap(text, size) if display_width(text) > size else [text]
            for text, size in zip(values, widths, strict=True)
        ]
        for k in range(max(len(parts) for parts in wrapped)):
            yield GAP.join(
                _pad(parts[k] if k < len(parts) else "", size, align)
                for parts, size, align in zip(wrapped, widths, right, strict=True)
            ).rstrip()

    out: list[str] = []
    if options.headers:
        out += lines(columns)
        out.append(GAP.join("-" * size for size in widths).rstrip())
    for row in cells:
        out += lines(row)
    return out


def _with_bars(
    columns: list[str], widths: list[int], right: list[bool], shown: list[Sequence[Any]],
    cells: list[list[str]], index: int, width: int | None,
) -> tuple[list[str], list[int], list[bool]]:  # fmt: skip
    """A bar for each row (appended to its cells), as long as the terminal leaves
    room for, if any; the columns, widths and alignments with the bar's column."""
    room = BAR_WIDTH if width is None else width - sum(widths) - len(GAP) * len(widths)
    if min(room, BAR_WIDTH) < 5:
        return columns, widths, right
    peak = max((row[index] or 0 for row in shown), default=0) or 1
    length = min(room, BAR_WIDTH)
    for row, text in zip(shown, cells, strict=True):
        text.append("█" * round(length * (row[index] or 0) / peak))
    return [*columns, ""], [*widths, length], [*right, False]


def _field_lines(fields: Sequence[tuple[str, str]], width: int | None) -> list[str]:
    """`name │ value` lines; a value's own line breaks are kept, and every line of
    it wraps to the width, in full."""
    names = [name.translate(_ONE_LINE) for name, _ in fields]
    name_width = max((display_width(name) for name in names), default=0)
    if width is not None:
        name_width = min(name_width, max(10, width * 2 // 5))
        value_width = width - name_width - len(SEPARATOR)
    out: list[str] = []
    for name, (_, value) in zip(names, fields, strict=True):
        value_lines: list[str] = []
        for line in value.splitlines() or [""]:
            line = line.translate(_IN_LINE)
            value_lines += [line] if width is None else wrap(line, value_width)
        name_lines = [name] if width is None else wrap(name, name_width)
        for k in range(max(len(name_lines), len(value_lines))):
            left = _pad(name_lines[k] if k < len(name_lines) else "", name_width)
            right = value_lines[k] if k < len(value_lines) else ""
            out.append((left + SEPARATOR + right).rstrip())
    return out


def _record_lines(columns: list[str], texts: list[list[str]], width: int | None) -> list[str]:
    """One block of `column │ value` lines per row, each under a `-[ N ]` rule."""
    blocks = [_field_lines(list(zip(columns, row, strict=True)), width) for row in texts]
    rule = max((display_width(line) for block in blocks for line in block), default=0)
    out: list[str] = []
    for number, block in enumerate(blocks, 1):
        label = f"-[ {number} ]"
        out.append(label + "-" * max(0, rule - len(label)))
        out += block
    return out


def _layout(
    columns: list[str], shown: list[Sequence[Any]], texts: list[list[str]], result: Rows,
    stream: TextIO, options: OutputOptions, width: int | None,
) -> list[str]:  # fmt: skip
    """The best view of the rows that fits: a table with every value whole; the same
    with timestamps shown as their dates; the command's one-line-per-row view
    (articles); a table whose long words may break; else one block per row."""
    dated = _dated(texts)
    for cells in (texts, dated):
        if cells is not None:
            table = _table_lines(columns, shown, cells, result, stream, options, width)
            if table is not None:
                return table
    if result.compact and width is not None and shown:
        # All the compact columns, else the first and the last (date and title).
        for chosen in (result.compact, [result.compact[0], result.compact[-1]]):
            compact = _compact_lines(columns, dated or texts, chosen, width, options)
            if compact is not None:
                return compact
    cells = dated or texts
    table = _table_lines(columns, shown, cells, result, stream, options, width, break_words=True)
    if table is not None:
        return table
    if not shown:
        # No rows to show as blocks: the column names, so the answer is not blank.
        return wrap(GAP.join(columns), width or 0) if options.headers else []
    return _record_lines(columns, texts, width)


def _dated(texts: list[list[str]]) -> list[list[str]] | None:
    """The texts with each timestamp column's values cut to their dates (UTC), or
    None when there is no such column: a table too narrow for 2020-08-17T18:08:00Z
    shows 2020-08-17 rather than split it."""
    if not texts:
        return None
    stamped = [
        i
        for i in range(len(texts[0]))
        if any(row[i] for row in texts)
        and all(not row[i] or _TIMESTAMP.fullmatch(row[i]) for row in texts)
    ]
    if not stamped:
        return None
    return [[text[:10] if i in stamped else text for i, text in enumerate(row)] for row in texts]


def _compact_lines(
    columns: list[str], texts: list[list[str]], compact: Sequence[str], width: int,
    options: OutputOptions,
) -> list[str] | None:  # fmt: skip
    """One line per row of the `compact` columns, the last cut with … to fit; None
    when a column is missing or the last would get fewer than TEXT_FLOOR cells."""
    if not all(name in columns for name in compact):
        return None
    indexes = [columns.index(name) for name in compact]
    rows = [[row[i].translate(_ONE_LINE) for i in indexes] for row in texts]
    names = list(compact)
    widths = [max(display_width(t) for t in [names[k], *(r[k] for r in rows)])
              for k in range(len(names) - 1)]  # fmt: skip
    room = width - sum(widths) - len(GAP) * (len(names) - 1)
    last = max(display_width(t) for t in [names[-1], *(r[-1] for r in rows)])
    if min(room, last) < max(TEXT_FLOOR, display_width(names[-1])):
        return None
    widths.append(min(room, last))
    out = [GAP.join(_pad(n, w) for n, w in zip(names, widths, strict=True)).rstrip()]
    out = [*out, GAP.join("-" * w for w in widths)] if options.headers else []
    for row in rows:
        cells = [*row[:-1], _cut(row[-1], widths[-1])]
        out.append(GAP.join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return out


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending in … when it had to be cut."""
    if display_width(text) <= width:
        return text
    kept, used = [], 0
    for glyph, size in _clusters(text):
        if used + size > width - 1:
            break
        kept.append(glyph)
        used += size
    return "".join(kept).rstrip() + "…"


def write_table(
    result: Rows,
    rows: Iterator[Sequence[Any]],
    stream: TextIO,
    options: OutputOptions,
    value_text: Callable[[Any], str],
) -> int:
    """Write the rows as a table (or `field │ value` lines); `value_text` gives a
    value's text, as formats.text_value does for CSV (passed in: formats.py loads
    this module, so this module does not import it)."""
    columns = [str(column) for column in result.columns]
    shown = list(islice(rows, TABLE_MAX_ROWS))
    more = next(rows, None) is not None
    texts = [[_text(value, value_text) for value in row] for row in shown]
    width = terminal_width(stream)
    if result.layout == "vertical":
        lines = _field_lines([(row[0], row[1]) for row in texts], width)
    else:
        lines = _layout(columns, shown, texts, result, stream, options, width)
    if more:
        note = f"(showing the first {TABLE_MAX_ROWS} rows; use --format csv or --limit for all)"
        lines += [note] if width is None else wrap(note, width)
    if lines:
        stream.write("\n".join(lines) + "\n")
    return len(shown)
