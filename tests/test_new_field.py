"""Adding a field is one recipe (archive/record_format.py's docstring): proved on a
throwaway field, `author`, in a copy of the project.

Records are imported before the field exists (`author` goes to `extra`); then the
recipe's steps are applied to the copy as a developer would: the Field, the
generated migration (`python -m migrations.new_field`), the model line. After
`archive db upgrade`, the old records' values are in the new column (the
backfill), and import, show, export, the view and the downgrade all carry it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy
from conftest import ROOT, drop_postgres_database, new_postgres_database

from archive.store.schema_version import HEAD_REVISION
from archive.store.urls import to_url

# The revision the recipe's migration gets: the one after today's head.
NEXT = f"{int(HEAD_REVISION) + 1:04d}"

FIELD_LINE = '    Field("author", "author", "text"),\n'
BEFORE = "Ann"


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("archive", "migrations"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")  # ruff's settings
    # Installed, migrations/ is archive/_migrations; so in the copy, or the editable
    # install of the real checkout would hand over its own migrations.
    (target / "archive" / "_migrations").symlink_to(target / "migrations")
    return target


def _insert_after(path: Path, anchor: str, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(anchor) == 1, f"{path.name}: {anchor!r}"
    path.write_text(text.replace(anchor, anchor + line), encoding="utf-8")


def apply_recipe(project: Path) -> str:
    """The recipe's steps 1-3; returns what the generator printed."""
    recipe = (project / "archive" / "record_format.py").read_text(encoding="utf-8")
    assert "`python -m migrations.new_field author author text`" in recipe
    # 1. The description.
    _insert_after(
        project / "archive" / "record_format.py",
        '    Field("published", "published", "boolean"),\n',
        FIELD_LINE,
    )
    # 2. The generated migration (and the view's new version, and HEAD_REVISION).
    done = _run(project, "-m", "migrations.new_field", "author", "author", "text")
    # 3. The model line it prints.
    model_line = done.stdout.strip().splitlines()[-1]
    assert model_line == "    author: str | None = Field(default=None, sa_type=Text)"
    _insert_after(
        project / "archive" / "store" / "models.py",
        "    published: bool | None = None\n",
        model_line + "\n",
    )
    return done.stdout


def _run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _archive(project: Path, db: str, *args: str) -> str:
    return _run(project, "-m", "archive", "--db", db, *args).stdout


def _record(folder: Path, name: str, url: str, author: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"---\nwebUrl: {url}\ntitle: {name}\nauthor: {json.dumps(author)}\nnote: kept\n---\n",
        encoding="utf-8",
    )


def _show(project: Path, db: str, url: str) -> dict:
    return json.loads(_archive(project, db, "show", url, "--format", "json"))


def _the_recipe_on(project: Path, db: str, records: Path) -> None:
    # Before the field: `author` is one of the keys kept in extra.
    _record(records / "old", "old.md", "https://example.com/old", BEFORE)
    _record(records / "old", "number.md", "https://example.com/number", 5)
    _archive(project, db, "import", str(records / "old"))
    assert _show(project, db, "https://example.com/old")["extra"] == {
        "author": BEFORE,
        "note": "kept",
    }

    printed = apply_recipe(project)
    assert f"{NEXT}_field_author.py" in printed
    _archive(project, db, "db", "upgrade")

    # The backfill: the old record's value is in the column, gone from extra.
    old = _show(project, db, "https://example.com/old")
    assert (old["author"], old["extra"]) == (BEFORE, {"note": "kept"})
    # A value of another type stays where it was: nothing is lost or converted.
    number = _show(project, db, "https://example.com/number")
    assert (number["author"], number["extra"]) == (None, {"author": 5, "note": "kept"})

    # Importing after the field exists fills the column directly.
    _record(records / "new", "new.md", "https://example.com/new", "Bo")
    _archive(project, db, "import", str(records / "new"))
    assert _show(project, db, "https://example.com/new")["author"] == "Bo"

    # The view and export show it. (The test server's role is a superuser.)
    superuser = ["--allow-superuser"] if db.startswith("postgresql") else []
    exported = json.loads(
        _archive(project, db, "export", "article_summary", "--format", "json", *superuser)
    )
    assert {row["url"]: row["author"] for row in exported} == {
        "https://example.com/old": BEFORE,
        "https://example.com/number": None,
        "https://example.com/new": "Bo",
    }

    # Going down puts the values back in extra: nothing lost either way.
    _archive(project, db, "db", "downgrade", "-1")
    # (read directly: the copy's code now needs the revision just undone)
    engine = sqlalchemy.create_engine(to_url(db))
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT url, extra FROM article").all()
            columns = {c["name"] for c in sqlalchemy.inspect(connection).get_columns("article")}
    finally:
        engine.dispose()
    assert "author" not in columns
    extras = {url: extra if isinstance(extra, dict) else json.loads(extra) for url, extra in rows}
    assert extras["https://example.com/old"] == {"note": "kept", "author": BEFORE}
    assert extras["https://example.com/new"] == {"note": "kept", "author": "Bo"}
    assert extras["https://example.com/number"] == {"author": 5, "note": "kept"}


@pytest.mark.slow
def test_a_new_field_on_sqlite(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    _the_recipe_on(project, str(tmp_path / "news.db"), tmp_path / "records")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_new_field_on_postgresql(tmp_path: Path, postgres_server: str) -> None:
    project = _copy_project(tmp_path / "project")
    url = new_postgres_database(postgres_server)
    try:
        _the_recipe_on(project, url, tmp_path / "records")
    finally:
        drop_postgres_database(postgres_server, url)


def test_the_generated_migration_is_clean_code(tmp_path: Path) -> None:
    """What the generator writes passes the project's lint and format checks."""
    project = _copy_project(tmp_path / "project")
    apply_recipe(project)
    generated = project / "migrations" / "versions" / f"{NEXT}_field_author.py"
    for check in (["check"], ["format", "--check"]):
        _run(project, "-m", "ruff", *check, "--no-cache", str(generated))
    assert re.search(
        rf'HEAD_REVISION = "{NEXT}"',
        (project / "archive" / "store" / "schema_version.py").read_text(),
    )
