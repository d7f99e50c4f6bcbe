"""What the README's generated parts say, computed from the code: run `cog -r README.md`.

The README's cog blocks call these functions, and tests/test_docs.py runs
`cog --check`, so the command reference and the schema tables cannot drift from the
CLI and the models. This lives outside the `archive` package because nothing needs
it at run time; it is not in tests/ because it is not a test and the README's
blocks import it as `docs.cog_helpers` (cog puts the README's folder on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click
from click.testing import CliRunner
from sqlalchemy import Connection, Table

from archive.cli import cli
from archive.store.models import TABLE_NAMES, VIEWS, SQLModel

# Help is wrapped to the terminal's width; a fixed width makes the generated text
# the same on every machine (78 is what click uses on an 80-column terminal).
HELP_WIDTH = 78
# Tables fit COLUMNS too: the examples show what an 80-column terminal shows.
EXAMPLE_COLUMNS = 80


def walk_commands(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every visible command under `command`, itself first, as (path after `archive`, command)."""
    yield path, command
    if isinstance(command, click.Group):
        with click.Context(command, info_name=" ".join(("archive", *path))) as ctx:
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk_commands(sub, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    """`archive PATH --help`, as a user sees it on an 80-column terminal."""
    result = CliRunner().invoke(
        cli,
        [*path, "--help"],
        prog_name="archive",
        terminal_width=HELP_WIDTH,
        # The --db default shown must not depend on the generating shell.
        env={"ARCHIVE_DB": None},
    )
    if result.exit_code != 0:
        raise RuntimeError(f"archive {' '.join(path)} --help failed:\n{result.output}")
    # Editors strip trailing spaces; the generated text must survive that.
    return "\n".join(line.rstrip() for line in result.output.splitlines())


def help_examples(path: tuple[str, ...]) -> list[str]:
    """The command lines under "Examples:" in `archive PATH --help`, as typed."""
    lines = help_text(path).splitlines()
    if "  Examples:" not in lines:
        return []
    examples = []
    for line in lines[lines.index("  Examples:") + 1 :]:
        if line and not line.startswith("    "):
            break
        if line.strip():
            examples.append(line.strip())
    return examples


def command_heading(path: tuple[str, ...]) -> str:
    return "### `" + " ".join(("archive", *path)) + "`"


def command_reference() -> str:
    """A heading and the fenced `--help` output for every command and subcommand."""
    sections = [
        f"{command_heading(path)}\n\n```\n{help_text(path)}\n```\n" for path, _ in walk_commands()
    ]
    return "\n" + "\n".join(sections) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_table(kind: str, rows: Iterable[tuple[str, list[str], str]]) -> str:
    # Blank lines around it, so that Markdown ends the table before cog's end marker.
    lines = ["", f"| {kind} | columns | notes |", "| --- | --- | --- |"]
    for name, columns, notes in rows:
        listed = ", ".join(f"`{column}`" for column in columns)
        lines.append(f"| `{name}` | {listed} | {_cell(notes)} |")
    return "\n".join(lines) + "\n\n"


def _notes(description: str, columns: dict[str, str]) -> str:
    return " ".join([description, *(f"`{name}`: {text}." for name, text in columns.items())])


def _described_tables() -> list[Table]:
    tables = SQLModel.metadata.tables
    if set(tables) != set(TABLE_NAMES):
        raise ValueError(
            f"models.TABLE_NAMES {sorted(TABLE_NAMES)} is not the models' tables {sorted(tables)}"
        )
    for name in TABLE_NAMES:
        if not tables[name].info.get("description"):
            raise ValueError(
                f"table {name} has no description: give it _described(...) in its"
                " __table_args__ in archive/store/models.py"
            )
    return [tables[name] for name in TABLE_NAMES]


def tables_table() -> str:
    """The README's table of tables: columns from the models, notes from their `info`."""
    return _markdown_table(
        "table",
        (
            (
                table.name,
                [column.name for column in table.columns],
                _notes(
                    table.info["description"],
                    {
                        c.name: c.info["description"]
                        for c in table.columns
                        if "description" in c.info
                    },
                ),
            )
            for table in _described_tables()
        ),
    )


@contextmanager
def head_database() -> Iterator[Connection]:
    """An in-memory database that the migrations built up to the head revision."""
    import sqlalchemy
    from alembic import command

    from archive.store.database import alembic_config

    engine = sqlalchemy.create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
            yield connection
    finally:
        engine.dispose()


def view_columns() -> dict[str, list[str]]:
    """Each view's columns, read from the real views (the migrations' SQL), not restated."""
    with head_database() as connection:
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"
        ).scalars()
        return {
            name: [row[1] for row in connection.exec_driver_sql(f'PRAGMA table_info("{name}")')]
            for name in list(names)
        }


def views_table() -> str:
    """The README's table of views: columns from the real views, notes from models.VIEWS."""
    actual = view_columns()
    if set(actual) != set(VIEWS):
        raise ValueError(
            f"models.VIEWS describes {sorted(VIEWS)}, the migrations create {sorted(actual)}"
        )
    for name, view in VIEWS.items():
        unknown = set(view.columns) - set(actual[name])
        if unknown:
            raise ValueError(f"models.VIEWS[{name!r}] describes columns it lacks: {unknown}")
    return _markdown_table(
        "view",
        (
            (name, actual[name], _notes(view.description, view.columns))
            for name, view in VIEWS.items()
        ),
    )


_SAMPLE: dict[str, str] = {}


def _sample_archive() -> str:
    """An archive of data/, imported once per cog run, in a temporary folder."""
    if not _SAMPLE:
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        folder = tempfile.mkdtemp(prefix="archive-readme-")
        atexit.register(shutil.rmtree, folder, True)
        data = Path(__file__).resolve().parent.parent / "data"
        location = str(Path(folder) / "sample.db")
        _run(location, ["import", "--quiet", str(data)])
        _SAMPLE["location"] = location
    return _SAMPLE["location"]


def _run(location: str, args: list[str]) -> str:
    result = CliRunner().invoke(
        cli,
        ["--db", location, *args],
        prog_name="archive",
        env={"ARCHIVE_DB": None, "COLUMNS": str(EXAMPLE_COLUMNS)},
    )
    if result.exit_code != 0:
        raise RuntimeError(f"archive {' '.join(args)} failed:\n{result.output}")
    return result.stdout


def _command_path(args: list[str]) -> tuple[str, ...]:
    """The command path at the start of `args` (e.g. ("db", "upgrade"))."""
    command: click.Command = cli
    path: tuple[str, ...] = ()
    for arg in args:
        if not isinstance(command, click.Group) or arg not in command.commands:
            break
        command = command.commands[arg]
        path = (*path, arg)
    return path


def example(command: str) -> str:
    """`$ archive COMMAND` and what it prints on the sample data, as a fenced block.

    COMMAND is written as a user types it (shell quoting); output is as a table on
    an EXAMPLE_COLUMNS-wide terminal.
    """
    import shlex

    args = shlex.split(command)
    # One source: what the README shows running is an example of the command's --help.
    path = _command_path(args)
    if f"archive {command}" not in help_examples(path):
        raise ValueError(
            f"`archive {command}` is not an example in `archive {' '.join(path)} --help`:"
            " add it to the command's examples(...) epilog first"
        )
    if "--format" not in args:
        args += ["--format", "table"]
    output = _run(_sample_archive(), args)
    lines = "\n".join(line.rstrip() for line in output.splitlines())
    return f"\n```\n$ archive {command}\n{lines}\n```\n\n"
