"""A killed import leaves both search indexes matching the articles committed.

The CJK table (migration 0008) is written by triggers in the importer's
transaction, as article_fts is: a kill takes back its rows with the articles'.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reliability_checks import generate, kill_group, run_archive, start_archive, wait_for_commits

from archive.query import search_query

FILES = 400


def assert_indexes_follow_articles(db: Path) -> int:
    """Both FTS indexes pass their integrity checks and the CJK table holds exactly
    the articles with CJK characters, with their current text; returns its size."""
    cjk = "[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in search_query.CJK_RANGES) + "]"
    has = " OR ".join(f"{c} GLOB '*{cjk}*'" for c in ("title", "excerpt", "body"))
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO article_fts(article_fts) VALUES ('integrity-check')")
        connection.execute(
            "INSERT INTO article_fts_cjk(article_fts_cjk) VALUES ('integrity-check')"
        )
        indexed = connection.execute(
            "SELECT rowid, title, excerpt, body FROM article_fts_cjk ORDER BY rowid"
        ).fetchall()
        expected = connection.execute(
            f"SELECT id, title, excerpt, body FROM article WHERE {has} ORDER BY id"
        ).fetchall()
    assert indexed == expected
    return len(indexed)


def test_a_killed_import_leaves_the_cjk_index_matching_the_articles(tmp_path):
    folder = tmp_path / "records"
    generate(folder, FILES, shape="real")  # its prose mixes in 東京 and 人工知能
    db = tmp_path / "killed.db"
    proc = start_archive(
        db, "import", "--quiet", "--workers", "2", "--commit-every", "1", str(folder),
        log=tmp_path / "import.log",
    )  # fmt: skip
    seen = wait_for_commits(proc, db, FILES // 4)
    kill_group(proc)
    assert seen < FILES, "the import ended before the kill: nothing was interrupted"
    assert assert_indexes_follow_articles(db) > 0
    finished = run_archive(db, "import", "--quiet", str(folder))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert assert_indexes_follow_articles(db) > seen // 2
    found = run_archive(db, "search", "人工知能", "--format", "csv", "--limit", "5")
    assert found.returncode == 0 and found.stdout.count("[人工知能]") == 5, found.stdout
