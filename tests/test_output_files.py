"""Files written with -o behave like other tools' files (issue 14): the umask's mode,
an overwritten file keeps its mode, the format follows the extension, and options
that only make sense for spreadsheets are refused for JSON."""

from __future__ import annotations

import json
import os
import stat

import pytest
from conftest import one_error_line


@pytest.fixture
def umask():
    def set_umask(mask: int) -> None:
        os.umask(mask)

    saved = os.umask(0o022)
    os.umask(saved)
    yield set_umask
    os.umask(saved)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_umasks_mode(seeded, tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "out.csv"
    result = seeded.run("export", "provider", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert _mode(target) == expected


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_force_keeps_the_mode_of_the_file_it_replaces(seeded, tmp_path, umask, mode):
    umask(0o022)
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(mode)
    result = seeded.run("providers", "-o", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert target.read_text() != "old\n"
    assert _mode(target) == mode


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("out.json", lambda text: isinstance(json.loads(text), list)),
        ("out.jsonl", lambda text: all(json.loads(line) for line in text.splitlines())),
        ("out.tsv", lambda text: text.splitlines()[0].startswith("id\tkey\tname")),
        ("out.CSV", lambda text: text.splitlines()[0].startswith("id,key,name")),
        ("out", lambda text: text.splitlines()[0].startswith("id,key,name")),
    ],
)
def test_the_format_follows_the_extension_of_the_output_file(seeded, tmp_path, name, check):
    target = tmp_path / name
    result = seeded.run("export", "provider", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert check(target.read_text(encoding="utf-8"))


def test_format_given_wins_over_the_extension(seeded, tmp_path):
    target = tmp_path / "out.json"
    assert seeded.run("export", "provider", "-o", str(target), "--format", "csv").exit_code == 0
    assert target.read_text().startswith("id,key,name")


@pytest.mark.parametrize("option", ["--bom", "--excel-safe"])
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_spreadsheet_options_are_refused_for_json(seeded, tmp_path, option, fmt):
    target = tmp_path / f"out.{fmt}"
    result = seeded.run("export", "provider", "-o", str(target), option)
    line = one_error_line(result, exit_code=2)
    assert "--bom and --excel-safe are for csv and tsv output only" in line
    assert not target.exists()


def test_export_query_takes_named_parameters(seeded):
    result = seeded.run(
        "export", "--query", "SELECT name FROM provider WHERE domain = :d", "-p", "d",
        "gothamist.com", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"name": "Gothamist"}]
