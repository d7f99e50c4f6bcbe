"""The option decorators the commands share (archive/cli/options.py) only add: each
takes the options it added, and every other argument reaches the command as given.
And each exit status is defined once, in archive/errors.py."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT, Archive, imported

from archive import errors
from archive.cli.options import all_topics_option, date_filters, provider_filter, topic_filter

FILTER_DECORATORS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "date_filters": (date_filters, ("since", "until")),
    "topic_filter": (topic_filter, ("topic",)),
    "provider_filter": (provider_filter, ("provider",)),
    "all_topics_option": (all_topics_option, ("all_topics",)),
}
# Options a command might have of its own beside any filter decorator.
OWN = {"topic": "--topic", "provider": "--provider", "all_topics": "--all-topics",
       "since": "--since", "until": "--until"}  # fmt: skip


@pytest.mark.parametrize("name", FILTER_DECORATORS)
def test_a_filter_decorator_leaves_the_commands_own_options_alone(name: str) -> None:
    decorator, added = FILTER_DECORATORS[name]
    received: dict[str, Any] = {}

    def command(**kwargs: Any) -> None:
        received.update(kwargs)

    own = {param: flag for param, flag in OWN.items() if param not in added}
    command = decorator(command)
    for param, flag in own.items():
        command = click.option(flag.replace("--", "--own-"), param, default=f"own {param}")(command)
    result = CliRunner().invoke(click.command()(command), [], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert {param: received.get(param) for param in own} == {param: f"own {param}" for param in own}
    assert set(received) == {*own, "filters"}


def test_stacked_filter_decorators_each_add_their_part() -> None:
    received: dict[str, Any] = {}

    @click.command()
    @topic_filter
    @all_topics_option
    @provider_filter
    @date_filters
    def command(**kwargs: Any) -> None:
        received.update(kwargs)

    args = ["--topic", "AI", "--topic", "Privacy", "--all-topics", "--provider", "bbc.co.uk",
            "--since", "2020", "--until", "2020"]  # fmt: skip
    result = CliRunner().invoke(command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    filters = received["filters"]
    assert (filters.topics, filters.providers, filters.all_topics) == (
        ("AI", "Privacy"),
        ("bbc.co.uk",),
        True,
    )
    assert (filters.since.year, filters.until.year) == (2020, 2021)
    assert list(received) == ["filters"]


def test_cooccur_keeps_its_own_topic_beside_the_filters(tmp_path: Path) -> None:
    news = imported(Archive(tmp_path / "a.db"), DATA)
    result = news.run("cooccur", "--topic", "Elections", "--since", "2019", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["name,articles,share", "AI,3,1.0"]
    unknown = news.run("cooccur", "--topic", "Electionz")
    assert "Elections" in unknown.output  # the note names the nearest topic


def test_each_exit_status_is_defined_once_in_errors() -> None:
    statuses = {name for name in vars(errors) if name.startswith("EXIT_")}
    again = [
        f"{path.relative_to(ROOT)}:{node.lineno} {target.id}"
        for path in (ROOT / "archive").rglob("*.py")
        if path.name != "errors.py" or path.parent.name != "archive"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in statuses
    ]
    assert again == []
