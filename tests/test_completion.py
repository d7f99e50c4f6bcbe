"""Shell completion through the real protocol: `_ARCHIVE_COMPLETE=..._complete` in a
fresh `python -m archive`, as the shell scripts call it, and through bash and fish
themselves with the script `archive completion SHELL` prints.

zsh and fish are Debian packages (`apt-get install zsh fish`, which .ci/run does
when they are missing); a test that needs one fails without it rather than skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, HANG_SECONDS

BIN = str(Path(sys.executable).parent)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_ARCHIVE")}
    env.pop("ARCHIVE_DB", None)
    # The scripts call `archive` by name: this checkout's, first on PATH.
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("completion") / "sample.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)],
        check=True,
        env=_env(),
        timeout=HANG_SECONDS,
    )
    return db


def complete(words: str, shell: str = "bash", cwd: Path | None = None, **env: str) -> list[str]:
    """What `archive` answers a shell whose command line is `words` and whose cursor is
    in the last word (an empty last word when `words` ends with a space)."""
    args = words.split(" ")
    if shell in ("bash", "zsh"):  # the words, and the index of the one being completed
        protocol = {"COMP_WORDS": words, "COMP_CWORD": str(len(args) - 1)}
    else:  # fish passes the line so far and, separately, the word being completed
        protocol = {"COMP_WORDS": words, "COMP_CWORD": args[-1]}
    result = subprocess.run(
        [sys.executable, "-m", "archive"],
        env=_env(_ARCHIVE_COMPLETE=f"{shell}_complete", **protocol, **env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    # Completion runs at every Tab: it must never print an error or a traceback.
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # Click ends its answer with a newline, also when it has nothing to offer.
    return [line for line in result.stdout.splitlines() if line]


def plain(lines: list[str]) -> list[str]:
    """The values of bash's `plain,VALUE` lines."""
    return [line.split(",", 1)[1] for line in lines if line.startswith("plain,")]


def test_topics_come_from_the_archive(sample_db: Path) -> None:
    assert plain(complete(f"archive --db {sample_db} providers --topic ")) == [
        "AI", "Climate", "'Computer Vision'", "Deepfakes", "Elections", "Policing",
        "Privacy", "Surveillance",
    ]  # fmt: skip
    # Topics match in any case, as the query commands match them.
    assert plain(complete(f"archive --db {sample_db} articles --topic c")) == [
        "Climate",
        "'Computer Vision'",
    ]
    assert plain(complete(f"archive --db {sample_db} cooccur --topic El")) == ["Elections"]


def test_the_archive_is_found_as_commands_find_it(sample_db: Path, tmp_path: Path) -> None:
    # --db after the command, $ARCHIVE_DB, and archive.db in the current folder.
    assert plain(complete(f"archive timeline --db {sample_db} --topic Pri")) == ["Privacy"]
    assert plain(complete("archive search --topic Pri", ARCHIVE_DB=str(sample_db))) == ["Privacy"]
    shutil.copy(sample_db, tmp_path / "archive.db")
    assert plain(complete("archive providers --topic Pri", cwd=tmp_path)) == ["Privacy"]


def test_provider_domains_come_from_the_archive(sample_db: Path) -> None:
    assert plain(complete(f"archive --db {sample_db} topics --provider the")) == [
        "theguardian.com",
        "thestar.com.my",
        "theverge.com",
    ]
    # Domains as the filters take them: lowercased, without www., found by either.
    assert plain(complete(f"archive --db {sample_db} articles --provider www.NY")) == ["nypost.com"]


def test_export_completes_table_and_view_names(sample_db: Path) -> None:
    assert plain(complete(f"archive --db {sample_db} export article")) == [
        "article", "article_image", "article_story", "article_topic", "article_url",
        "article_summary",
    ]  # fmt: skip
    # The full-text index's internal tables are not something to export.
    names = plain(complete(f"archive --db {sample_db} export "))
    assert "topic_article" in names and "source_file" in names
    assert not [name for name in names if name.startswith(("article_fts", "sqlite_"))]


def test_choices_and_paths(sample_db: Path) -> None:
    assert plain(complete("archive timeline --by ")) == ["day", "week", "month", "year"]
    assert plain(complete("archive stats --format js")) == ["json", "jsonl"]
    assert complete("archive import da") == ["file,da"]
    assert complete("archive dump ou") == ["dir,ou"]
    assert complete("archive export article -o ar") == ["file,ar"]
    assert complete("archive --db sam") == ["file,sam"]
    assert complete("archive serve --write-metadata m") == ["file,m"]
    assert "plain,completion" in complete("archive comp")
    assert plain(complete("archive completion ")) == ["bash", "zsh", "fish"]


@pytest.mark.parametrize(
    "db",
    ["missing.db", "not-an-archive.txt", "folder", "postgresql://me@nowhere.invalid/news"],
)
def test_no_archive_completes_nothing_and_says_nothing(tmp_path: Path, db: str) -> None:
    (tmp_path / "not-an-archive.txt").write_text("hello\n")
    (tmp_path / "folder").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    for words in (f"archive --db {db} providers --topic ", f"archive --db {db} export a"):
        assert complete(words, cwd=tmp_path) == []  # complete() asserts: no stderr
    # Completing neither creates an archive nor leaves files beside one.
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_completing_leaves_no_files_beside_the_archive(sample_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    shutil.copy(sample_db, db)
    content = db.read_bytes()
    assert plain(complete(f"archive --db {db} providers --topic AI")) == ["AI"]
    assert [p.name for p in tmp_path.iterdir()] == ["a.db"]
    assert db.read_bytes() == content


def test_zsh_and_fish_protocols(sample_db: Path) -> None:
    # zsh: type, value and help on three lines each ("_": no help).
    assert complete(f"archive --db {sample_db} cooccur --topic El", shell="zsh") == [
        "plain", "Elections", "_",
    ]  # fmt: skip
    assert complete(f"archive --db {sample_db} cooccur --topic Comp", shell="zsh") == [
        "plain", "Computer Vision", "_",
    ]  # fmt: skip
    assert complete(f"archive --db {sample_db} cooccur --topic Comp", shell="fish") == [
        "plain,Computer Vision"
    ]


def test_completion_loads_no_sqlalchemy(sample_db: Path) -> None:
    """A Tab key press must answer at once: no SQLAlchemy, SQLModel or Alembic."""
    code = (
        "import sys, runpy\n"
        "try:\n    runpy.run_module('archive', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'alembic')))\n"
    )
    words = f"archive --db {sample_db} providers --topic A"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(_ARCHIVE_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD="5"),
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert result.stdout.splitlines() == ["plain,AI", "[]"], result.stderr


# --- the scripts, in the shells themselves ---------------------------------------------


def script(shell: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "archive", "completion", shell],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_shell(*command: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which(command[0]), f"{command[0]} is missing: apt-get install zsh fish"
    return subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=HANG_SECONDS)


@pytest.mark.parametrize(
    ("shell", "check", "function"),
    [
        ("bash", ["bash", "-n"], "_archive_completion()"),
        ("zsh", ["zsh", "-n"], "_archive_completion()"),
        ("fish", ["fish", "--no-execute"], "function _archive_completion"),
    ],
)
def test_each_script_is_valid_in_its_shell(
    shell: str, check: list[str], function: str, tmp_path: Path
) -> None:
    text = script(shell)
    assert function in text
    assert "_ARCHIVE_COMPLETE" in text
    path = tmp_path / f"archive.{shell}"
    path.write_text(text)
    result = run_shell(*check, str(path))
    assert result.returncode == 0, result.stderr


def test_bash_completes_through_the_script(sample_db: Path) -> None:
    """What a Tab press in bash does: the script's function fills COMPREPLY."""
    program = (
        'eval "$(archive completion bash)"\n'
        f"COMP_WORDS=(archive --db {sample_db} providers --topic Comp)\n"
        "COMP_CWORD=5\n"
        "_archive_completion archive\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = run_shell("bash", "-c", program)
    assert result.returncode == 0, result.stderr
    # One word, quoted, so that bash inserts it as one argument.
    assert result.stdout.splitlines() == ["'Computer Vision'"]


def test_fish_completes_through_the_script(sample_db: Path) -> None:
    program = (
        "archive completion fish | source\n"
        f"complete --do-complete 'archive --db {sample_db} topics --provider theg'\n"
    )
    result = run_shell("fish", "--no-config", "-c", program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["theguardian.com"]


@pytest.mark.parametrize("args", [["ksh"], [], ["bash", "zsh"]])
def test_an_unknown_shell_is_a_usage_error(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archive", "completion", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=HANG_SECONDS,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
