"""Migrations replay the same text forever: schema objects live in versioned SQL
files, and no migration imports the archive's live code."""

from __future__ import annotations

import ast
import runpy
import sqlite3
from pathlib import Path

from conftest import DATA, ROOT, imported

MIGRATIONS = ROOT / "migrations"
OBJECTS = runpy.run_path(str(MIGRATIONS / "support" / "objects.py"))

# Migration code may import these and nothing of the archive: env.py is Alembic's
# environment (it compares the live models with the schema; it migrates nothing).
ALLOWED = {MIGRATIONS / "env.py": {"archive.store"}}  # from archive.store import models


def _archive_imports(path: Path) -> set[str]:
    """Every `archive...` module a file imports, also inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "archive"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "archive":
            found.add(node.module or "")
    return found


def _live_imports(folder: Path) -> dict[str, set[str]]:
    return {
        str(path.relative_to(folder)): imports
        for path in sorted(folder.rglob("*.py"))
        if (imports := _archive_imports(path) - ALLOWED.get(path, set()))
    }


def test_no_migration_imports_the_archive() -> None:
    assert _live_imports(MIGRATIONS) == {}


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    (tmp_path / "0099_x.py").write_text(
        "def upgrade():\n    from archive.ingest.records import parse_record\n"
    )
    (tmp_path / "0098_y.py").write_text("import archive.identity\n")
    assert _live_imports(tmp_path) == {
        "0098_y.py": {"archive.identity"},
        "0099_x.py": {"archive.ingest.records"},
    }


def _newest_versions() -> dict[tuple[str, str], Path]:
    """(object name, dialect or "") -> its file with the highest revision."""
    newest: dict[tuple[str, str], Path] = {}
    for path in sorted((MIGRATIONS / "objects").glob("*.sql")):  # revisions sort as text
        name, _revision, *dialect = path.name.removesuffix(".sql").split(".")
        newest[(name, dialect[0] if dialect else "")] = path
    return newest


def test_a_new_archives_views_and_triggers_are_the_newest_files(archive) -> None:
    """Every view, trigger and search table a new archive has is, word for word, the
    newest version of its file: the files are where they are defined."""
    imported(archive, DATA)
    with sqlite3.connect(archive.path) as connection:
        stored = dict(connection.execute("SELECT name, sql FROM sqlite_master"))
        objects = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('view', 'trigger')"
            )
        }
    newest = {
        name: path.read_text(encoding="utf-8").rstrip("\n")
        for (name, dialect), path in _newest_versions().items()
        if dialect in ("", "sqlite")
    }
    assert objects and objects <= set(newest)
    assert {name: stored.get(name) for name in newest} == newest


def test_an_object_file_is_found_by_revision_and_dialect() -> None:
    sql = OBJECTS["sql"]
    assert "json_group_array" in sql("article_summary", "0006", "sqlite")
    assert "json_agg" in sql("article_summary", "0006", "postgresql")
    assert "group_concat" in sql("article_summary", "0002", "sqlite")
    # One file for both engines where the text is the same.
    assert sql("topic_article", "0006", "sqlite") == sql("topic_article", "0006", "postgresql")


def test_the_cjk_triggers_match_the_migrations_glob() -> None:
    """0008 keeps the character ranges (CJK_GLOB, checked against the search code in
    tests/test_search.py); its trigger files must spell the same ranges."""
    migration = runpy.run_path(str(MIGRATIONS / "versions" / "0008_search_cjk_and_words.py"))
    for name, row in (("insert", "new"), ("delete", "old"), ("update", "new")):
        text = OBJECTS["sql"](f"article_fts_cjk_{name}", "0008", "sqlite")
        assert migration["_has_cjk"](row) in text
