"""Search that finds Chinese, Japanese and Korean text, and reads words alike on both engines

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

- SQLite: FTS5's unicode61 tokenizer splits words at spaces, so in Chinese or
  Japanese text (no spaces) a word inside a run of characters could not be found. A
  second FTS5 table, article_fts_cjk, indexes the text of articles that contain CJK
  characters with the `trigram` tokenizer (any substring of 3+ characters); triggers
  keep it in step with `article` as article_fts's do, in the writer's transaction.
  Only articles with CJK characters are in it, so it costs little where there are few.
- PostgreSQL: search_vector read text with the default parser, which keeps
  `covid-19`, `ai/ml`, URLs and `3.5` as single words (so `covid` missed `COVID-19`
  and `ai` missed `AI/ML`) where FTS5 sees `covid` `19`. The column now reads the
  text with every run of non-letters and non-digits as a space, as unicode61 does,
  so the same words find the same articles. CJK text is found with ILIKE (query.
  search_query), which needs no index.
"""

from __future__ import annotations

import runpy
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from alembic import op

objects = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).resolve().parents[1] / "support" / "objects.py"))
)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The characters that put an article in article_fts_cjk: kana, CJK ideographs (with
# extensions and compatibility forms), Hangul syllables, half-width katakana. The
# same ranges as archive/query/search_query.CJK_RANGES (a test checks they agree).
CJK_GLOB = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
COLUMNS = ("title", "excerpt", "body")


def _has_cjk(row: str) -> str:
    return " OR ".join(f"{row}.{column} GLOB '*{CJK_GLOB}*'" for column in COLUMNS)


# The trigram table and its triggers: migrations/objects/<name>.0008.sqlite.sql (their
# WHEN clauses spell out _has_cjk; a test checks the files against CJK_GLOB).
SQLITE_TRIGGERS = ("article_fts_cjk_insert", "article_fts_cjk_delete", "article_fts_cjk_update")
SQLITE_OBJECTS = (
    *(("TRIGGER", name) for name in SQLITE_TRIGGERS),
    ("TABLE", "article_fts_cjk"),
)


def _search_vector(words: str) -> tuple[str, ...]:
    """PostgreSQL's search column, reading each column through `words`."""
    parts = " || ".join(
        f"setweight(to_tsvector('archive_search'::regconfig, {words.format(column)}), '{weight}')"
        for column, weight in zip(COLUMNS, "ABC", strict=True)
    )
    return (
        "DROP INDEX IF EXISTS ix_article_search_vector",
        "ALTER TABLE article DROP COLUMN IF EXISTS search_vector",
        f"ALTER TABLE article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({parts}) STORED",
        "CREATE INDEX ix_article_search_vector ON article USING gin (search_vector)",
    )


def _marks() -> str:
    """Combining marks (Unicode's M* categories: the vowel signs of Hindi, Arabic's
    harakat) as regex ranges. unicode61 reads them as separators, glibc's locales
    some as letters. From the Unicode tables of the Python that runs the migration."""
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        mark = code <= sys.maxunicode and unicodedata.category(chr(code)).startswith("M")
        if mark and start is None:
            start = code
        elif not mark and start is not None:
            ranges.append(f"{chr(start)}-{chr(code - 1)}")
            start = None
    return "".join(ranges)


def _postgres_up(utf8: bool) -> tuple[str, ...]:
    # Runs of anything but letters and digits become one space, as unicode61 splits;
    # marks too where the database can hold them.
    separators = f"(?:[^[:alnum:]]|[{_marks()}])+" if utf8 else "[^[:alnum:]]+"
    return _search_vector(f"regexp_replace(coalesce({{}}, ''), '{separators}', ' ', 'g')")


POSTGRES_DOWN = _search_vector("coalesce({}, '')")  # as migration 0002 made it


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        objects.create(op, "article_fts_cjk", "0008")
        op.execute(
            "INSERT INTO article_fts_cjk(rowid, title, excerpt, body)"
            f" SELECT id, title, excerpt, body FROM article WHERE {_has_cjk('article')}"
        )
        for name in SQLITE_TRIGGERS:
            objects.create(op, name, "0008")
    elif bind.dialect.name == "postgresql":
        utf8 = bind.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
        for sql in _postgres_up(utf8):
            op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for kind, name in SQLITE_OBJECTS:
            objects.drop(op, kind, name)
    elif dialect == "postgresql":
        for sql in POSTGRES_DOWN:
            op.execute(sql)
