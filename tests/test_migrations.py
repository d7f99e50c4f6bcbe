"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

import pytest
import sqlalchemy
from conftest import imported
from pytest_alembic import Config
from pytest_alembic.tests import (  # noqa: F401  (collected as tests of this module)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from archive.store.database import alembic_config as archive_alembic_config


@pytest.fixture
def alembic_config():
    return Config.from_raw_config(archive_alembic_config())


@pytest.fixture(params=["sqlite", "postgresql"])
def alembic_engine(request, tmp_path):
    """pytest-alembic's checks on both engines; PostgreSQL's on a new database of the
    test server (conftest.postgres_server: skipped without one, outside CI only)."""
    if request.param == "sqlite":
        return sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    from conftest import drop_postgres_database, new_postgres_database

    from archive.store.database import to_url

    server = request.getfixturevalue("postgres_server")
    url = new_postgres_database(server)
    engine = sqlalchemy.create_engine(to_url(url))

    def drop() -> None:
        engine.dispose()
        drop_postgres_database(server, url)

    request.addfinalizer(drop)
    return engine


def test_the_head_revision_archive_expects_is_alembics_head():
    from archive.store.database import alembic_head_revision
    from archive.store.schema_version import HEAD_REVISION

    assert alembic_head_revision() == HEAD_REVISION


def test_new_database_is_created_at_head(archive, seed_dir):
    imported(archive, seed_dir)
    current = archive.run("db", "current")
    history = archive.run("db", "history")
    head = history.output.split()[0]
    assert current.output.strip() == f"{head} (head)"


def test_old_schema_is_not_upgraded_behind_the_users_back(archive, seed_dir):
    imported(archive, seed_dir)
    down = archive.run("db", "downgrade", "0001")
    assert down.exit_code == 0, down.output
    assert "backed up" in down.output
    before = archive.snapshot()
    result = archive.run("import", str(seed_dir))
    assert result.exit_code == 3
    assert "run `archive db upgrade`" in result.output
    assert archive.snapshot() == before
    assert archive.value("SELECT version_num FROM alembic_version") == "0001"
    assert archive.run("providers").exit_code == 3
    # The read-only commands check the schema on their own, without SQLAlchemy.
    for command in (["sql", "SELECT 1"], ["export", "article"]):
        refused = archive.run(*command)
        assert refused.exit_code == 3, refused.output
        assert "run `archive db upgrade`" in refused.output

    up = archive.run("db", "upgrade")
    assert up.exit_code == 0, up.output
    backup = up.output.split(" to ", 1)[1].splitlines()[0]
    assert backup.startswith(str(archive.path) + ".backup-0001-")
    assert archive.rows("SELECT count(*) FROM article") == [(5,)]
    # The full-text index is rebuilt from the articles that were already there.
    search = archive.run("search", "Blasio", "--format", "csv")
    assert search.exit_code == 0, search.output
    assert len(search.output.strip().splitlines()) == 3  # header + the seed and one related entry
    assert archive.run("import", str(seed_dir)).exit_code == 0


def test_downgrade_to_base_and_back_keeps_working(archive, seed_dir):
    imported(archive, seed_dir)
    assert archive.run("db", "downgrade", "base").exit_code == 0
    assert archive.run("import", str(seed_dir)).exit_code == 3
    assert archive.run("db", "upgrade").exit_code == 0
    assert archive.run("import", str(seed_dir)).exit_code == 0
    assert archive.count("article") == 5


def test_unknown_revision_is_a_clear_error(archive, seed_dir):
    imported(archive, seed_dir)
    result = archive.run("db", "downgrade", "nonsense")
    assert result.exit_code == 2  # a usage error, refused before any backup
    assert result.output.startswith("error: no schema revision 'nonsense'")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["export", "t"], ["providers"]])
def test_a_database_that_is_not_an_archive_is_refused(tmp_path, command):
    import sqlite3

    from conftest import Archive

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    result = Archive(other).run(*command)
    assert result.exit_code == 5, result.output  # the archive cannot be opened
    assert "is not an archive: it has tables but no schema revision" in result.output


def test_source_file_article_link_is_a_deferred_foreign_key(archive, seed_dir):
    """SQLite reads an inline constraint's DEFERRABLE back from no catalogue, so the
    model comparison skips it (migrations/env.py); this checks it as SQLite enforces it."""
    import sqlite3

    assert archive.run("import", str(seed_dir)).exit_code == 0
    assert ("article", "article_id", "id") in {
        (row[2], row[3], row[4]) for row in archive.rows("PRAGMA foreign_key_list(source_file)")
    }
    connection = sqlite3.connect(archive.path, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("BEGIN")
    # Deferred: a file may name its article before the article's row is written ...
    connection.execute("UPDATE source_file SET article_id = 999999")
    # ... but the transaction cannot commit while it names none.
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        connection.execute("COMMIT")
    connection.execute("ROLLBACK")
    connection.close()
    assert archive.rows("SELECT count(*) FROM source_file WHERE article_id = 999999") == [(0,)]


def test_stepping_down_and_up_again_keeps_every_row(archive):
    """Each revision carries the rows of the one before it forward unchanged (0006
    rewrites every timestamp and rebuilds article_topic and the search table)."""
    from conftest import DATA, REAL

    assert archive.run("import", str(DATA)).exit_code == 0
    assert archive.run("import", str(REAL)).exit_code == 0
    # 0007's file identities did not exist before it: this checks 0006 from 0006.
    assert archive.run("db", "downgrade", "0006").exit_code == 0
    at_head = archive.snapshot()
    down = archive.run("db", "downgrade", "-1")
    assert down.exit_code == 0, down.output
    # 0005 stored SQLAlchemy's format; 0006 stores ISO 8601 UTC text.
    assert (
        archive.value("SELECT published_at FROM article WHERE id = 1")
        == "2020-08-17 18:08:00.000000"
    )
    up = archive.run("db", "upgrade", "0006")
    assert up.exit_code == 0, up.output
    assert archive.snapshot() == at_head
    assert archive.run("db", "upgrade").exit_code == 0
    search = archive.run("search", "facial", "--format", "json")
    assert search.exit_code == 0 and search.stdout.count('"rank"') > 0, search.output
