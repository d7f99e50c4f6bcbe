"""Shared fixtures: run the real CLI against a real database file in a temp folder."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from archive.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# Real record files (see its README): videos, CRLF, two files for one article.
REAL = ROOT / "tests" / "fixtures" / "real"
SEED = DATA / "000_9a9da6683cea1af2.txt"
# How long a test may run before hang_guard calls it hung. Not a speed requirement:
# it only turns a hang into a failure, so it is far beyond any slow or loaded machine.
HANG_SECONDS = 300

# No test may depend on the machine's speed: hypothesis' default 200 ms deadline per
# example fails examples that are merely slow on a loaded machine.
settings.register_profile("archive", deadline=None)
settings.load_profile("archive")


class Archive:
    """A database path plus helpers to run `archive` on it and read it back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, *args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, ["--db", str(self.path), *args], input=input)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        connection = sqlite3.connect(self.path)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def value(self, sql: str, *params: object) -> object:
        return self.rows(sql, *params)[0][0]

    def count(self, table: str) -> int:
        return int(self.value(f"SELECT count(*) FROM {table}"))

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table: equal snapshots mean nothing changed."""
        # The full-text index's own tables are an internal structure that SQLite
        # reorganizes on every insert; search tests check what they answer.
        tables = [
            name
            for (name,) in self.rows(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'article_fts%'"
            )
        ]
        return {t: sorted(self.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "test.db")


@pytest.fixture
def records(tmp_path: Path) -> Path:
    folder = tmp_path / "records"
    folder.mkdir()
    return folder


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seed"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


def imported(archive: Archive, *paths: Path | str) -> Archive:
    """`archive import PATHS` through the CLI, for a test that needs the rows, not the import."""
    result = archive.run("import", *map(str, paths))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return archive


@pytest.fixture
def seeded(archive: Archive, seed_dir: Path) -> Archive:
    """An archive holding the seed record alone (1 article, 4 related stubs)."""
    return imported(archive, seed_dir)


@pytest.fixture
def sample(archive: Archive) -> Archive:
    """An archive holding the sample records of data/."""
    return imported(archive, DATA)


def one_error_line(result: Result, exit_code: int = 1) -> str:
    """The single `error:` line a failing command prints (and nothing else)."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), result.output
    return lines[0]


@contextmanager
def hang_guard(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than `seconds`."""

    class Hung(BaseException):  # BaseException: no `except Exception` swallows it
        pass

    def alarm(_signum: int, _frame: object) -> None:
        raise Hung(f"still running after {seconds} s: hung")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def record(url: str, body: str = "", **fields: str) -> str:
    """A small record file; `fields` are YAML lines (already formatted values)."""
    lines = ["---", f'webUrl: "{url}"']
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", body])


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


# --- PostgreSQL ----------------------------------------------------------------------
# The PostgreSQL tests run against a real server: ARCHIVE_TEST_POSTGRES names it
# (`.ci/postgres start` prints a URL for a throwaway one; .ci/run does that). Outside
# CI they skip without one; in CI (CI=true) a missing server fails them, so a
# misconfigured CI cannot pass by skipping.
POSTGRES_ENV = "ARCHIVE_TEST_POSTGRES"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if in_ci():
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: start one with .ci/postgres start")
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (see .ci/postgres)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if in_ci():
            raise
        pytest.skip("psycopg is not installed: pip install -e '.[postgres,test]'")
    return url


def libpq(url: str) -> str:
    """A SQLAlchemy-style URL as libpq reads it (no +driver)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def new_postgres_database(server: str, collation: str | None = None) -> str:
    """A new, empty database on the server; its URL. `collation`: an ICU locale
    (`en-US`) its text sorts by, as a user's database may (the server's is C)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"archive_test_{uuid.uuid4().hex[:12]}"
    sorting = (
        f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{collation}' LOCALE 'C.UTF-8'"
        if collation
        else ""
    )
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{sorting}')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


class PostgresArchive(Archive):
    """An archive in its own database on the test server, read back with psycopg."""

    def __init__(self, url: str) -> None:
        super().__init__(Path("."))
        self.url = url

    def run(self, *args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, ["--db", self.url, *args], input=input)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(libpq(self.url)) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()

    def snapshot(self) -> dict[str, list[tuple]]:
        tables = [
            name
            for (name,) in self.rows(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        return {t: sorted(self.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


@contextmanager
def on_both_engines(
    server: str, corpus: list[Path], folder: Path, name: str, collation: str | None = None
) -> Iterator[tuple[Archive, PostgresArchive]]:
    """The same folders imported into SQLite and into PostgreSQL, in the same order:
    for the tests that the two engines answer alike (`collation`: new_postgres_database)."""
    sqlite = Archive(folder / f"{name}.db")
    url = new_postgres_database(server, collation)
    postgres = PostgresArchive(url)
    try:
        for path in corpus:
            imported(sqlite, path)
            imported(postgres, path)
        yield sqlite, postgres
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
def pg_archive(postgres_server: str) -> Iterator[PostgresArchive]:
    url = new_postgres_database(postgres_server)
    try:
        yield PostgresArchive(url)
    finally:
        drop_postgres_database(postgres_server, url)


# Markers, by file: `pytest -m "not slow"` is the quick loop while working (the
# unit and CLI tests), a plain `pytest` (and CI) runs everything. A file is slow when
# it starts real processes or servers in bulk, drives a terminal or a browser, or
# fuzzes; `postgres` and `browser` name the real component a test needs.
SLOW_FILES = {
    "test_benchmark.py",
    "test_completion.py",
    "test_dump_rebuilds.py",
    "test_mistakes.py",
    "test_postgres.py",
    "test_serve_browser.py",
    "test_terminal_progress.py",
}
COMPONENT_MARKERS = {"test_postgres.py": "postgres", "test_serve_browser.py": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        if path.name in SLOW_FILES or "reliability" in path.parts:
            item.add_marker(pytest.mark.slow)
        if path.name in COMPONENT_MARKERS:
            item.add_marker(getattr(pytest.mark, COMPONENT_MARKERS[path.name]))
        elif {"pg_archive", "postgres_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
