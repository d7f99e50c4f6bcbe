"""Every command's --help reads well: placeholders a person understands, help for every
option, command lines not cut mid-sentence, lines that fit 80 columns, and examples
that work: each one is run on an archive of data/ and must succeed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import DATA, HANG_SECONDS, ROOT
from test_docs import PAGES, helpers

from archive.cli import cli
from archive.cli.options import Number

COMMANDS = list(helpers.walk_commands())
IDS = [" ".join(("archive", *path)) for path, _ in COMMANDS]

# click's own names for values (`--limit INTEGER RANGE`, `[x>=0]`): jargon in help.
JARGON = re.compile(r"\b(?:INTEGER|FLOAT|RANGE|BOOLEAN|UUID)\b|\bx\s*[<>]=?|[<>]=?\s*x\b")

# Examples that are not run, each for a reason: the test fails when one is no longer
# an example, so this list cannot outlive what it excuses.
NOT_RUN = {
    "archive serve": "serves until Ctrl-C",
    "archive serve --port 8080 --open": "serves until Ctrl-C, and opens a browser",
    "archive --db postgresql://admin@dbhost/news db grant-reader news_reader": (
        "needs a PostgreSQL server"
    ),
}
# Commands whose rows go to stdout: their examples must find some.
PRINTS_ROWS = {
    "providers", "topics", "articles", "search", "timeline", "cooccur", "related", "show",
    "stats", "sql", "export",
}  # fmt: skip


def help_of(path: tuple[str, ...], width: int = 80) -> str:
    result = CliRunner().invoke(
        cli, [*path, "--help"], prog_name="archive", terminal_width=width, env={"ARCHIVE_DB": None}
    )
    assert result.exit_code == 0, result.output
    return result.output


def jargon(command: click.Command, name: str) -> list[str]:
    """What `archive NAME --help` shows of click's jargon, and the options that take a
    value without naming it (click would call it TEXT, INTEGER, ...)."""
    found = [f"{name}: {line.strip()}" for line in help_of(name.split()[1:]).splitlines()
             if JARGON.search(line)]  # fmt: skip
    # Arguments show their own names (URL, SQL, FOLDER); options show their type's.
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or param.is_flag or param.count:
            continue
        if isinstance(param.type, click.Choice):
            continue
        if param.metavar is None:
            found.append(f"{name} {param.opts[0]}: no metavar (click shows {param.type.name!r})")
    return found


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_placeholders_are_words_not_types(path: tuple[str, ...], command: click.Command) -> None:
    assert jargon(command, " ".join(("archive", *path))) == []


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_is_explained(path: tuple[str, ...], command: click.Command) -> None:
    with click.Context(command, info_name="archive") as ctx:
        params = command.get_params(ctx)
    unexplained = [
        param.opts[0]
        for param in params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert unexplained == []
    assert (command.help or "").strip(), "the command itself needs a description"


@pytest.mark.parametrize("path", [(), ("db",)], ids=["archive", "archive db"])
@pytest.mark.parametrize("width", [80, 66])
def test_command_lists_are_not_cut_mid_sentence(path: tuple[str, ...], width: int) -> None:
    text = help_of(path, width)
    listed = text.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(listed) == len(cli.commands if not path else cli.commands["db"].commands)  # type: ignore[attr-defined]
    assert [line for line in listed if line.rstrip().endswith("...")] == []


# `archive` itself is listed nowhere: its short help is never shown.
@pytest.mark.parametrize(("path", "command"), COMMANDS[1:], ids=IDS[1:])
def test_each_short_help_fits_any_terminal(path: tuple[str, ...], command: click.Command) -> None:
    # 45 characters is click's default cut; with it a command list fits 66 columns.
    assert not command.get_short_help_str(limit=45).endswith("...")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_fits_80_columns(path: tuple[str, ...], command: click.Command) -> None:
    too_wide = [line for line in help_of(path).splitlines() if len(line) > 80]
    assert too_wide == []


# --- examples -------------------------------------------------------------------------


EXAMPLES = [
    (path, line)
    for path, _ in COMMANDS
    for line in helpers.help_examples(path)
]  # fmt: skip


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_examples_of_itself(path: tuple[str, ...], command: click.Command) -> None:  # fmt: skip
    examples = helpers.help_examples(path)
    assert examples, "add epilog=examples(...) to the command"
    if path:  # `archive --help` shows several commands
        name = " ".join(path)
        assert [line for line in examples if name not in line] == []


def test_the_examples_not_run_are_still_examples() -> None:
    assert set(NOT_RUN) <= {line for _, line in EXAMPLES}


def test_the_docs_show_only_help_examples() -> None:
    """The docs' example blocks (cog) run commands that --help lists as examples:
    docs/cog_helpers.example() refuses others, so one source feeds both."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    shown = re.findall(r"cog\.out\(example\((\"(?:[^\"\\]|\\.)*\")\)\)", text)
    assert len(shown) >= 10
    examples = {line for _, line in EXAMPLES}
    for literal in shown:
        command = "archive " + eval(literal)  # a Python string literal in the cog block
        assert command in examples
    with pytest.raises(ValueError, match="not an example"):
        helpers.example("stats --limit 1")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as the examples assume it: data/ and archive.db, imported from it."""
    folder = tmp_path_factory.mktemp("examples") / "workspace"
    shutil.copytree(DATA, folder / "data")
    # A git history, for `import --git` (the real one, tests/fixtures/real-history).
    shutil.copy(ROOT / "tests/fixtures/real-history/microsoft-power-apps-news-150.bundle",
                folder / "news.bundle")  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "archive", "import", "--quiet", "data/"],
        cwd=folder,
        env=_env(folder),
        check=True,
        timeout=HANG_SECONDS,
    )
    return folder


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVE_DB", "COLUMNS")}
    # The examples say `archive`: this checkout's, first on PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["HOME"] = str(home)
    return env


@pytest.mark.parametrize(
    ("path", "line"),
    [(path, line) for path, line in EXAMPLES if line not in NOT_RUN],
    ids=[line for _, line in EXAMPLES if line not in NOT_RUN],
)
def test_each_example_works_on_the_sample_data(
    path: tuple[str, ...], line: str, workspace: Path, tmp_path: Path
) -> None:
    # Each in a copy of its own: examples import, upgrade, downgrade and write files.
    folder = tmp_path / "workspace"
    shutil.copytree(workspace, folder)
    result = subprocess.run(
        ["bash", "-c", line],
        cwd=folder,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=HANG_SECONDS,
    )
    assert result.returncode == 0, f"$ {line}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    words = shlex.split(line)
    command = words[words.index("archive") + 1 :] if "archive" in words else []
    writes_rows = "-o" in command or ">" in line
    if command and not writes_rows and set(path) & PRINTS_ROWS:
        # A header and at least one row: an example that finds nothing shows nothing.
        assert len(result.stdout.splitlines()) >= 2, f"$ {line} printed no rows"


def test_number_options_refuse_out_of_range_values_in_words() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "--workers", "-1", "x"], prog_name="archive")
    assert result.exit_code == 2
    assert "-1 is not at least 0" in result.output
    result = runner.invoke(cli, ["serve", "--port", "70000"], prog_name="archive")
    assert result.exit_code == 2
    assert "70000 is not from 0 to 65535" in result.output
    for value in ("nan", "ten", ""):
        result = runner.invoke(cli, ["sql", "SELECT 1", "--timeout", value], prog_name="archive")
        assert result.exit_code == 2, value
    assert Number(0.001, whole=False).convert("0.5", None, None) == 0.5
