"""A daily import of a few files into an existing archive is mostly start-up: it
must not load what only large imports or other commands need (README: Performance).

ural (0.2-0.3 s of CPU to load: it compiles hundreds of patterns) is only for URLs
the identity shortcuts do not cover, numpy only for large story batches, parser
processes and the read-ahead thread only for more than one chunk of files, and the
library's front and its query layer (archive.api) not at all. Which modules load is checked, never how long
anything takes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import DATA, record, write
from ural import normalize_url

# Top-level packages, and archive's own modules an import has no use for: the
# library's front (archive.api) and the query layer behind it (the shared command
# options use a few query modules, which stay).
NOT_NEEDED = ("ural", "numpy", "multiprocessing", "concurrent", "sqlalchemy", "alembic")
NOT_NEEDED_OF_ARCHIVE = (
    "archive.api", "archive.query.queries", "archive.query.sql", "archive.query.dump",
    "archive.query.search_query", "archive.query.article_lists",
)  # fmt: skip


def _import_and_loaded(args: list[str]) -> tuple[int, list[str]]:
    """Run `archive ARGS` in a fresh interpreter: its exit status, and which of the
    modules it should not need it loaded."""
    code = (
        "import sys\n"
        "from archive.cli import cli\n"
        "status = 0\n"
        f"try:\n    cli({args!r}, prog_name='archive')\n"
        "except SystemExit as exc:\n    status = exc.code or 0\n"
        f"print(status, sorted(m for m in sys.modules if m.split('.')[0] in {NOT_NEEDED!r}"
        f" or m.startswith({NOT_NEEDED_OF_ARCHIVE!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    status, modules = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(status), eval(modules)


# The address forms real records name most: plain article URLs (with `www.`, an AMP
# page, an index page), and YouTube videos by watch and embed URL.
NEW = {
    "a.md": record(
        "https://www.example.com/world/2024/a-story-about-trains",
        "The trains ran late on Monday, and the operator said the signals failed.",
        title='"Trains ran late across the region"',
        ampWebUrl='"https://amp.example.com/world/2024/a-story-about-trains.amp"',
    ),
    "b.md": record(
        "https://news.example.org/index.html",
        "An index page of a site, with a little text.",
        title='"Front page"',
    ),
    "c.md": record(
        "https://www.youtube.com/watch?v=WJk-Y8LQlfE",
        "A video about the same trains, and the same late Monday.",
        title='"Video: trains ran late across the region"',
        originalUrl='"https://youtube.com/embed/WJk-Y8LQlfEx"',
    ),
}


def test_a_small_import_loads_neither_ural_numpy_workers_nor_queries(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    new = tmp_path / "new"
    for name, text in NEW.items():
        write(new, name, text)
    status, modules = _import_and_loaded(["--db", str(db), "import", "-q", str(new)])
    assert status == 0
    assert modules == []
    # What it wrote is what ural would have made of the URLs, and every new article
    # has its story.
    urls = [
        "https://www.example.com/world/2024/a-story-about-trains",
        "https://amp.example.com/world/2024/a-story-about-trains.amp",
        "https://news.example.org/index.html",
        "https://www.youtube.com/watch?v=WJk-Y8LQlfE",
    ]
    with sqlite3.connect(db) as conn:
        keys = {k for (k,) in conn.execute("SELECT url_key FROM article_url")}
        without_story = conn.execute(
            "SELECT count(*) FROM article a WHERE a.is_stub = 0 AND NOT EXISTS"
            " (SELECT 1 FROM article_story s WHERE s.article_id = a.id)"
        ).fetchone()[0]
    assert {normalize_url(u) for u in urls} <= keys
    assert without_story == 0
