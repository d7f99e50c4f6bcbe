"""Empty answers explain themselves (issue 14): a --topic or --provider that names
nothing in the archive says so on stderr, with the nearest names; --fail-on-empty
turns an answer without rows into exit status 5. Through the CLI, on data/."""

from __future__ import annotations

import json

import pytest
from conftest import DATA, Archive, imported, one_error_line

from archive.errors import EmptyAnswer

SEED_URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return imported(Archive(tmp_path_factory.mktemp("data") / "a.db"), DATA)


def notes(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("note: ")]


@pytest.mark.parametrize(
    ("args", "note"),
    [
        (["providers", "--topic", "AIX"], 'note: no topic "AIX"; did you mean: AI?'),
        (["articles", "--topic", "privcy"], 'note: no topic "privcy"; did you mean: Privacy?'),
        (
            ["timeline", "--topic", "Eletions"],
            'note: no topic "Eletions"; did you mean: Elections?',
        ),
        (["cooccur", "--topic", "Deepfake"], 'note: no topic "Deepfake"; did you mean: Deepfakes?'),
        (
            ["search", "police", "--topic", "Policng"],
            'note: no topic "Policng"; did you mean: Policing?',
        ),
        (
            ["topics", "--provider", "theguardian.co"],
            'note: no provider "theguardian.co"; did you mean: theguardian.com?',
        ),
        (
            ["providers", "--provider", "www.bbc.co.uks", "--include-related"],
            'note: no provider "www.bbc.co.uks"; did you mean: bbc.co.uk?',
        ),
        (
            # By name, as a provider without a domain is known; answered with the
            # domain that --provider takes.
            ["articles", "--provider", "The Guardian"],
            'note: no provider "The Guardian"; did you mean: theguardian.com?',
        ),
        (
            ["providers", "--topic", "Quantum Basket Weaving"],
            'note: no topic "Quantum Basket Weaving" (archive topics lists them)',
        ),
    ],
    ids=lambda value: " ".join(value)[:40] if isinstance(value, list) else None,
)
def test_an_unknown_name_says_so_with_the_nearest_names(data, args, note):
    result = data.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert notes(result) == [note]


def test_at_most_three_suggestions(data):
    result = data.run("providers", "--topic", "Climat", "--topic", "Policin", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert notes(result) == [
        'note: no topic "Climat"; did you mean: Climate?',
        'note: no topic "Policin"; did you mean: Policing?',
    ]
    # Five domains are near the.com: the three nearest are named.
    found = data.run("topics", "--provider", "the.com", "--format", "csv")
    assert notes(found) == [
        'note: no provider "the.com"; did you mean: theverge.com, thestar.com.my, theguardian.com?'
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["providers", "--topic", "AI", "--since", "2030"],  # known topic, empty range
        ["providers", "--topic", "AI", "--topic", "AIX"],  # any of them: not empty
        ["articles", "--type", "podcast"],
        ["search", "xylophone"],
    ],
    ids=lambda args: " ".join(args),
)
def test_no_note_when_every_name_is_known_or_the_answer_has_rows(data, args):
    result = data.run(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert notes(result) == []


@pytest.mark.parametrize(
    "args",
    [
        ["providers", "--topic", "AIX"],
        ["articles", "--topic", "AI", "--since", "2030"],
        ["search", "xylophone"],
        ["timeline", "--provider", "nowhere.example"],
        ["related", "https://www.bbc.co.uk/news/technology-example-54010005"],
        ["sql", "SELECT * FROM article WHERE id < 0"],
        ["export", "--query", "SELECT * FROM article WHERE id < 0"],
    ],
    ids=lambda args: " ".join(args)[:40],
)
def test_fail_on_empty_exits_5_when_no_row_is_written(data, args):
    result = data.run(*args, "--fail-on-empty", "--format", "csv")
    assert result.exit_code == EmptyAnswer.exit_code == 7, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: no rows (--fail-on-empty)"]
    assert result.stdout.splitlines()[0]  # the header is still written


def test_fail_on_empty_writes_the_empty_file_and_says_so(data, tmp_path):
    target = tmp_path / "none.csv"
    result = data.run("providers", "--topic", "AIX", "--fail-on-empty", "-o", str(target))
    assert result.exit_code == 7, result.output
    assert target.read_text().startswith("name,domain,articles")


@pytest.mark.parametrize(
    "args",
    [
        ["providers", "--topic", "AI"],
        ["show", SEED_URL],
        ["stats"],
        ["sql", "SELECT 1 AS one"],
        ["export", "topic"],
    ],
    ids=lambda args: args[0],
)
def test_fail_on_empty_leaves_an_answer_with_rows_alone(data, args):
    result = data.run(*args, "--fail-on-empty", "--format", "csv")
    assert result.exit_code == 0, result.output


def test_without_fail_on_empty_an_empty_answer_exits_0(data):
    result = data.run("sql", "SELECT * FROM article WHERE id < 0", "--format", "csv")
    assert result.exit_code == 0, result.output


def test_an_unknown_url_is_still_an_error_line(data):
    """show/related of an unknown URL already explain themselves (exit 1)."""
    line = one_error_line(data.run("show", "https://example.org/never-imported"))
    assert line == "error: no article with URL https://example.org/never-imported"


def test_fail_on_empty_is_documented_in_every_printing_command(data):
    for command in ("providers", "topics", "articles", "search", "timeline", "cooccur",
                    "related", "show", "stats", "sql", "export"):  # fmt: skip
        help_text = data.run(command, "--help").output
        assert "--fail-on-empty" in help_text, command
        assert f"status {EmptyAnswer.exit_code}" in " ".join(help_text.split()), command
