"""What the docs' generated parts say, computed from the code.

Regenerate with `cog -r -I . README.md docs/*.md` from the repository's top folder.
The cog blocks of README.md and docs/*.md call these functions, and tests/test_docs.py
runs `cog --check` on every one of those files, so the command reference, the
examples' output, the schema tables, the record format and the exit statuses cannot
drift from the CLI and the models. This lives outside the `archive` package because
nothing needs it at run time; it is not in tests/ because it is not a test, and the
blocks import it as `docs.cog_helpers` (hence `-I .`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click
from click.testing import CliRunner
from sqlalchemy import Connection, Table

from archive import record_format as fmt
from archive.cli import cli
from archive.errors import EXIT_STATUSES
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


def command_anchor(path: tuple[str, ...]) -> str:
    """The heading's anchor, as MkDocs and GitHub both make it (backticks dropped)."""
    return "-".join(("archive", *path))


# The docs page that explains each command (by its path, else by its first word).
COMMAND_PAGES = {
    "import": "importing.md",
    "dump": "versions.md",
    "history": "versions.md",
    "stories": "stories.md",
    "serve": "serve.md",
    "db": "schema.md",
    "db grant-reader": "postgresql.md",
    "completion": "reference.md",
    **dict.fromkeys(
        ["providers", "topics", "articles", "search", "timeline", "cooccur", "related",
         "show", "stats", "sql", "export"],
        "questions.md",
    ),
}  # fmt: skip


def commands_table(reference: str = "reference.md") -> str:
    """Every command with its one-line help, the page that explains it and its `--help`."""
    lines = ["", "| command | what it does | read |", "| --- | --- | --- |"]
    for path, command in walk_commands():
        if not path:
            continue
        name = " ".join(("archive", *path))
        page = COMMAND_PAGES.get(" ".join(path)) or COMMAND_PAGES.get(path[0])
        if page is None:
            raise ValueError(f"`{name}` has no page in COMMAND_PAGES (docs/cog_helpers.py)")
        summary = command.get_short_help_str(limit=HELP_WIDTH)
        title = page.removesuffix(".md")
        lines.append(
            f"| [`{name}`]({reference}#{command_anchor(path)}) | {_cell(summary)}"
            f" | [{title}]({page}) |"
        )
    return "\n".join(lines) + "\n\n"


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


def import_example(command: str = "import data/", runs: int = 1) -> str:
    """`$ archive import ...` into a new archive `runs` times, each with its summary.

    Not `example()`: that one shares an archive already imported, where the import
    would find nothing new. The summary names no path when it is not on a terminal,
    so a temporary archive and the absolute data/ folder print what
    `archive import data/` prints in a checkout.
    """
    import shlex
    import tempfile
    from pathlib import Path

    if f"archive {command}" not in help_examples(("import",)):
        raise ValueError(f"`archive {command}` is not an example in `archive import --help`")
    data = Path(__file__).resolve().parent.parent / "data"
    args = [str(data) if arg in ("data", "data/") else arg for arg in shlex.split(command)]
    shown = []
    with tempfile.TemporaryDirectory(prefix="archive-docs-") as folder:
        for _ in range(runs):
            result = CliRunner().invoke(
                cli,
                ["--db", str(Path(folder) / "new.db"), *args],
                prog_name="archive",
                env={"ARCHIVE_DB": None, "COLUMNS": str(EXAMPLE_COLUMNS)},
            )
            if result.exit_code != 0:
                raise RuntimeError(f"archive {command} failed:\n{result.output}")
            shown += [
                f"$ archive {command}",
                *(line.rstrip() for line in result.output.splitlines()),
            ]
    return "\n```\n" + "\n".join(shown) + "\n```\n\n"


def exit_status_table() -> str:
    """The exit statuses, from archive/errors.py (`archive --help` lists the same)."""
    lines = ["", "| status | meaning |", "| --- | --- |"]
    lines += [f"| `{code}` | {_cell(meaning)} |" for code, meaning in EXIT_STATUSES]
    return "\n".join(lines) + "\n\n"


# What each kind of record_format.Field accepts, in words; record_format.Kind is the list.
KIND_NOTES = {
    "text": "a YAML string; a number, date or boolean is rejected, never converted (quote it)",
    "url": "a YAML string, stored as written",
    "timestamp": "a YAML timestamp or a string: `Z`, an offset, or a date only (no offset:"
    " UTC); stored in UTC as `YYYY-MM-DDTHH:MM:SSZ`, from year {first} to {last}",
    "integer": "a whole number from -2^63 to 2^63-1",
    "boolean": "`true` or `false`",
}

# The keys that become rows of other tables rather than a column: what they hold.
_STRUCTURE = {
    fmt.PROVIDER_KEY: ("mapping", "one `provider` row per provider identity;"
                       " `article.provider_id` points at it"),
    fmt.IMAGES_KEY: ("list of mappings", "one `image` row per image URL, linked in"
                     " record order by `article_image`"),
    fmt.TOPICS_KEY: ("list of text", "one `topic` row per topic identity, linked in"
                     " record order by `article_topic`; own records only"),
    fmt.RELATED_KEY: ("list of mappings", "each entry is an article (a stub until its own"
                      " record arrives) with the same keys as a record, linked by"
                      " `related_link`; own records only"),
}  # fmt: skip


def _field_row(key: str, table: str, field: fmt.Field) -> str:
    column = SQLModel.metadata.tables[table].columns[field.column]
    notes = []
    if field.identity:
        notes.append("Identifies the article (normalized, in `article_url`).")
    description = column.info.get("description")
    if description:
        notes.append(description[0].upper() + description[1:] + ".")
    if table == "article" and not field.summary:
        notes.append("Not in `article_summary`.")
    if field.blob:
        notes.append("`archive show` lists it last.")
    return f"| `{key}` | `{table}.{field.column}` | {field.kind} | {_cell(' '.join(notes))} |"


def record_format_table() -> str:
    """Each key of a record: the column it lands in, its type and notes.

    From archive/record_format.py (keys, columns, kinds) and the models' column
    descriptions, so a new field appears here as soon as it is described there.
    """
    from typing import get_args

    missing = set(get_args(fmt.Kind)) - set(KIND_NOTES)
    if missing:
        raise ValueError(f"KIND_NOTES in docs/cog_helpers.py lacks the kinds {sorted(missing)}")
    lines = ["", "| key | column | type | notes |", "| --- | --- | --- | --- |"]
    lines += [_field_row(f.key, "article", f) for f in fmt.ARTICLE_FIELDS]
    for key, fields, table in (
        (fmt.PROVIDER_KEY, fmt.PROVIDER_FIELDS, "provider"),
        (f"{fmt.IMAGES_KEY}[]", fmt.IMAGE_FIELDS, "image"),
    ):
        lines += [_field_row(f"{key}.{f.key}", table, f) for f in fields]
    for key, (kind, notes) in _STRUCTURE.items():
        lines.append(f"| `{key}` | rows of other tables | {kind} | {_cell(notes)} |")
    lines.append(
        "| any other key | `extra` of its row (`article`, `provider`, `image`) | any JSON value"
        " | kept as JSON: text, booleans, null, numbers, dates as ISO text, lists, mappings |"
    )
    kinds = ["", "| type | accepts |", "| --- | --- |"]
    first, last = fmt.TIMESTAMP_RANGE[0].year, fmt.TIMESTAMP_RANGE[1].year - 1
    for kind in get_args(fmt.Kind):
        kinds.append(f"| {kind} | {_cell(KIND_NOTES[kind].format(first=first, last=last))} |")
    return "\n".join([*lines, *kinds]) + "\n\n"
