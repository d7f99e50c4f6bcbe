"""A fast start: `archive --version` and `archive sql` load neither click nor the
command modules (cli/front.py answers them), other commands load only their own
module (cli/commands.py), and the answers are the same either way.

How fast is measured by hand (benchmarks/run.py, docs/performance.md); here,
what is loaded, which is what made it slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import DATA, HANG_SECONDS

from archive.cli import cli
from archive.cli.commands import COMMANDS

# What the start path of the two fast lines once loaded, and must not again.
HEAVY = (
    "click", "typing", "dataclasses", "inspect", "json", "tempfile", "ctypes", "sqlalchemy",
    "sqlmodel", "alembic", "archive.cli.app", "archive.cli.options", "archive.cli.completion",
    *sorted({f"archive.cli.{module}" for module, _ in COMMANDS.values()}),
)  # fmt: skip

_SHOW_MODULES = """
import sys
sys.argv[1:] = {args!r}
try:
    from archive.cli{module} import main
    main()
except SystemExit as exit:
    code = exit.code
print("MODULES", sorted(sys.modules), file=sys.stderr)
sys.exit(code)
"""


def run(
    args: list[str], *, through_click: bool = False, env: dict[str, str] | None = None
) -> tuple[int, str, str, set[str]]:
    """`archive ARGS` in a fresh interpreter, as the console script starts it (or
    straight through click's group): exit code, stdout, stderr, modules loaded."""
    code = _SHOW_MODULES.format(args=args, module=".app" if through_click else "")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
        env={**os.environ, **(env or {})},
    )
    stderr, _, modules = result.stderr.rpartition("MODULES ")
    return result.returncode, result.stdout, stderr, set(eval(modules))


def baseline_modules() -> set[str]:
    """What `python -c 'import sqlite3'` loads here (a .pth file may add some)."""
    result = subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(eval(result.stdout))


def heavy(modules: set[str]) -> list[str]:
    """The HEAVY modules (and their submodules) in `modules` that Python itself does
    not load."""
    extra = modules - baseline_modules()
    return sorted(m for m in extra if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("startup") / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(path), "import", "-q", str(DATA)],
        check=True,
        timeout=HANG_SECONDS,
    )
    return str(path)


def test_version_loads_nothing_heavy() -> None:
    code, out, err, modules = run(["--version"])
    assert (code, err) == (0, "")
    assert out.startswith("archive, version ")
    assert heavy(modules) == []


def test_sql_loads_nothing_heavy(db: str) -> None:
    code, out, err, modules = run(["--db", db, "sql", "SELECT 1"])
    assert (code, out, err) == (0, "1\n1\n", "")
    assert heavy(modules) == []


def test_a_command_loads_its_own_module_only(db: str) -> None:
    code, _, err, modules = run(["--db", db, "stats", "--format", "csv"])
    assert (code, err) == (0, "")
    assert "archive.cli.query_commands" in modules
    assert not modules & {"archive.cli.import_command", "archive.cli.serve_command",
                          "archive.cli.db_commands", "archive.cli.stories_command"}  # fmt: skip


SQL = "SELECT title, url FROM article ORDER BY id LIMIT 3"
MANY_ROWS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 2500) SELECT x, 'a,b' FROM n"  # fmt: skip
SAME_LINES = {
    "version": (["--version"], {}),
    "sql": (["--db", "{db}", "sql", SQL], {}),
    "sql, --db after": (["sql", SQL, "--db", "{db}"], {}),
    "sql, --db=": (["--db={db}", "sql", SQL], {}),
    "sql, $ARCHIVE_DB": (["sql", SQL], {"ARCHIVE_DB": "{db}"}),
    "sql, many rows": (["--db", "{db}", "sql", MANY_ROWS], {}),
    "no archive": (["--db", "{missing}", "sql", "SELECT 1"], {}),
    "a write": (["--db", "{db}", "sql", "DELETE FROM article"], {}),
    "bad SQL": (["--db", "{db}", "sql", "SELEKT 1"], {}),
    "bad busy timeout": (["--db", "{db}", "sql", "SELECT 1"], {"ARCHIVE_BUSY_TIMEOUT": "soon"}),
}


@pytest.mark.parametrize(("args", "env"), SAME_LINES.values(), ids=SAME_LINES.keys())
def test_front_door_answers_as_click_does(
    db: str, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    """Each line answered without click (front.py) gives the output, errors and exit
    code that click's group gives for it."""
    filled = [a.format(db=db, missing=tmp_path / "missing.db") for a in args]
    environment = {k: v.format(db=db) for k, v in env.items()}
    fast = run(filled, env=environment)
    slow = run(filled, through_click=True, env=environment)
    assert fast[:3] == slow[:3]
    # The front door answered it: click was not needed, even to word an error.
    assert "click" not in fast[3]
    assert "click" in slow[3]


def test_other_lines_go_to_click(db: str) -> None:
    """An option the front door does not take is click's to parse and judge."""
    code, _, err, modules = run(["--db", db, "sql", "SELECT 1", "--format", "nope"])
    assert code == 2
    assert "nope" in err
    assert "click" in modules


def test_the_table_lists_exactly_the_registered_commands() -> None:
    """cli/commands.py says which module registers each command and its short help:
    importing every module registers those commands, no other, with that help."""
    for module in {module for module, _ in COMMANDS.values()}:
        __import__(f"archive.cli.{module}")
    registered = dict(cli.commands.loaded)  # type: ignore[attr-defined]
    assert sorted(registered) == sorted(COMMANDS)
    for name, command in registered.items():
        module, short_help = COMMANDS[name]
        assert command.callback.__module__ == f"archive.cli.{module}", name  # type: ignore[union-attr]
        assert command.short_help == short_help, name


def test_help_lists_every_command_without_loading_them() -> None:
    code, out, err, modules = run(["--help"])
    assert (code, err) == (0, "")
    listed = out.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in listed.splitlines()] == sorted(COMMANDS)
    for _, short_help in COMMANDS.values():
        assert short_help in " ".join(listed.split())
    assert not modules & {f"archive.cli.{module}" for module, _ in COMMANDS.values()}


def test_help_from_the_table_is_clicks_own_list() -> None:
    """The list --help shows from the table is the one click makes from the loaded
    commands (same order, wrapping and widths)."""
    lazy = CliRunner().invoke(cli, ["--help"], terminal_width=66).output
    for name in COMMANDS:
        cli.commands[name]  # loads its module
    formatter = click.HelpFormatter(width=66)
    with click.Context(cli, info_name="archive") as ctx:
        click.Group.format_commands(cli, ctx, formatter)
    assert formatter.getvalue() in lazy
