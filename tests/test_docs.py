"""The README says what the code does: its generated parts are current, the rest names
every command, and its schema facts (revision, constraint names, diagram) are true.

The command reference and the tables of tables and views are cog blocks
(docs/cog_helpers.py); regenerate them with `cog -r README.md`. Each check below is
a function returning what is wrong, so that the mutation tests at the end can show
it finds a change made without regenerating.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import click
import pytest
from cogapp import Cog
from cogapp.cogapp import CogCheckFailed
from conftest import ROOT

from archive.cli import cli
from archive.store import models
from archive.store.schema_version import HEAD_REVISION

README = ROOT / "README.md"
REGENERATE = "run `cog -r README.md` and commit the result"


def _load_cog_helpers() -> ModuleType:
    # docs/ is not installed (nothing needs it at run time); load it from the checkout.
    spec = importlib.util.spec_from_file_location("cog_helpers", ROOT / "docs" / "cog_helpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load_cog_helpers()


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _narrative(text: str) -> str:
    """The README without its generated blocks: what a person wrote."""
    return re.sub(r"\[\[\[cog.*?\[\[\[end\]\]\]", "", text, flags=re.DOTALL)


# --- the checks ------------------------------------------------------------------------


def cog_check(readme: Path) -> str | None:
    """What `cog --check` reports about `readme`, or None when it is current."""
    out = io.StringIO()
    cog = Cog()
    cog.set_output(stdout=out, stderr=out)
    try:
        # -I: the blocks import docs.cog_helpers, also when `readme` is a copy elsewhere.
        cog.callable_main(["cog", "--check", "--diff", "-I", str(ROOT), str(readme)])
    except CogCheckFailed:
        return out.getvalue()
    return None


def commands_without_narrative(text: str) -> list[str]:
    """Commands that no hand-written part of the README mentions as `archive COMMAND`."""
    narrative = _narrative(text)
    missing = []
    for path, _ in helpers.walk_commands():
        if not path:
            continue
        name = " ".join(("archive", *path))
        # `archive [--db PATH] import` is how the README shows a global option.
        words = r"(?:\s+\[--db PATH\])?\s+".join(re.escape(word) for word in name.split())
        if not re.search(words + r"(?![\w-])", narrative):
            missing.append(name)
    return missing


def reference_sections(text: str) -> dict[tuple[str, ...], str]:
    """The README's command reference, by command path: heading to the next heading."""
    sections: dict[tuple[str, ...], str] = {}
    for match in re.finditer(r"^### `archive(?P<path>(?: [\w-]+)*)`\n(?P<body>.*?)(?=^#{1,3} |\Z)",
                             text, flags=re.MULTILINE | re.DOTALL):  # fmt: skip
        sections[tuple(match["path"].split())] = match["body"]
    return sections


def options_missing_from_reference(text: str) -> list[str]:
    """`archive COMMAND --option` pairs that the command's reference section lacks."""
    sections = reference_sections(text)
    missing = []
    for path, command in helpers.walk_commands():
        name = " ".join(("archive", *path))
        section = sections.get(path)
        if section is None:
            missing.append(f"{name} (no reference section)")
            continue
        with click.Context(command, info_name=name) as ctx:
            params = command.get_params(ctx)
        for param in params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            for opt in [*param.opts, *param.secondary_opts]:
                if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", section):
                    missing.append(f"{name} {opt}")
    return missing


def _revision_ids() -> list[str]:
    from alembic.script import ScriptDirectory

    from archive.store.database import alembic_config

    return [
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    ]


def stale_revisions(text: str) -> list[str]:
    """Schema revisions the README names that are not the head (e.g. `schema revision 0002`)."""
    return [
        revision
        for revision in _revision_ids()
        if revision != HEAD_REVISION
        and re.search(rf"(?<![\w.]){re.escape(revision)}(?![\w.])", text)
    ]


def unknown_schema_names(text: str, schema_sql: str) -> list[str]:
    """Constraint and index names in the README (`pk_...`, `ix_...`) the schema lacks."""
    named = set(re.findall(r"\b(?:pk|fk|ix|uq|ck)_\w+", text))
    return sorted(name for name in named if not re.search(rf"\b{name}\b", schema_sql))


def _head_schema_sql() -> str:
    with helpers.head_database() as connection:
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master").all()
    return "\n".join(f"{name}\n{sql or ''}" for name, sql in rows)


def diagram_edges(text: str) -> Counter[tuple[str, str]]:
    """(parent, child) for each relationship line of the README's mermaid diagram."""
    diagram = re.search(r"```mermaid\n(.*?)```", text, flags=re.DOTALL)
    assert diagram, "README has no mermaid diagram"
    return Counter(re.findall(r"^\s*(\w+) \|\|--o\{ (\w+) :", diagram[1], flags=re.MULTILINE))


def foreign_key_edges() -> Counter[tuple[str, str]]:
    return Counter(
        (key.column.table.name, table.name)
        for table in models.SQLModel.metadata.tables.values()
        for key in table.foreign_keys
    )


# --- the README as it is ----------------------------------------------------------------


def test_generated_parts_of_the_readme_are_current() -> None:
    report = cog_check(README)
    assert report is None, f"README.md is out of date: {REGENERATE}\n{report}"


def test_the_readme_holds_each_generated_part() -> None:
    # cog --check passes on a README whose blocks were deleted or hand-edited into
    # plain text; the generated text itself must be there.
    text = _readme()
    for part in (helpers.command_reference, helpers.tables_table, helpers.views_table):
        assert part() in text, f"README.md lacks the output of {part.__name__}(): {REGENERATE}"


def test_every_command_is_mentioned_outside_the_generated_reference() -> None:
    assert commands_without_narrative(_readme()) == [], (
        "describe these commands in a README section (with an example), not only in the"
        " generated reference"
    )


def test_every_option_of_every_command_is_in_its_reference_section() -> None:
    assert options_missing_from_reference(_readme()) == [], REGENERATE


def test_the_readme_names_no_schema_revision_but_the_head() -> None:
    assert HEAD_REVISION in _revision_ids()
    assert stale_revisions(_readme()) == []


def test_constraint_and_index_names_in_the_readme_exist() -> None:
    text = _readme()
    assert re.search(r"\bix_\w+", text), "the README's naming sentence names no index"
    assert unknown_schema_names(text, _head_schema_sql()) == []


def test_the_diagram_has_one_line_per_foreign_key() -> None:
    assert diagram_edges(_readme()) == foreign_key_edges()


def test_descriptions_change_no_ddl() -> None:
    # info is Python-only; a `comment` would reach PostgreSQL's DDL and need a migration.
    for table in models.SQLModel.metadata.tables.values():
        assert table.comment is None
        assert all(column.comment is None for column in table.columns)


# --- each check finds a change made without regenerating ----------------------------


@pytest.fixture
def readme_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "README.md"
    copy.write_text(_readme(), encoding="utf-8")
    return copy


def test_a_new_option_fails_until_the_readme_is_regenerated(
    monkeypatch: pytest.MonkeyPatch, readme_copy: Path
) -> None:
    command = cli.commands["import"]
    monkeypatch.setattr(
        command, "params", [*command.params, click.Option(["--dummy"], is_flag=True, help="x")]
    )
    assert "--dummy" in (cog_check(README) or "")
    assert options_missing_from_reference(_readme()) == ["archive import --dummy"]

    Cog().callable_main(["cog", "-r", "-I", str(ROOT), str(readme_copy)])
    assert cog_check(readme_copy) is None
    assert options_missing_from_reference(readme_copy.read_text(encoding="utf-8")) == []


def test_changed_help_text_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.commands["stats"], "help", "Something else entirely.")
    assert "Something else entirely." in (cog_check(README) or "")


def test_a_new_column_or_description_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import Column, Integer, MetaData

    table = models.SQLModel.metadata.tables["topic"]
    monkeypatch.setitem(table.info, "description", "One row per subject.")
    assert "One row per subject." in (cog_check(README) or "")
    monkeypatch.undo()

    # A copy of the table with one more column, so the real metadata stays untouched.
    changed = table.to_metadata(MetaData())
    changed.append_column(Column("dummy_column", Integer))
    tables = models.SQLModel.metadata.tables
    monkeypatch.setattr(models.SQLModel.metadata, "tables", {**tables, "topic": changed})
    assert "dummy_column" in (cog_check(README) or "")


def test_an_undescribed_table_or_view_stops_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(models.SQLModel.metadata.tables["topic"].info, "description")
    with pytest.raises(ValueError, match="table topic has no description"):
        helpers.tables_table()
    monkeypatch.undo()
    monkeypatch.delitem(models.VIEWS, "topic_article")
    with pytest.raises(ValueError, match="topic_article"):
        helpers.views_table()


def test_a_new_command_without_a_readme_section_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.commands, "frobnicate", click.Command("frobnicate", help="x"))
    assert commands_without_narrative(_readme()) == ["archive frobnicate"]
    assert "archive frobnicate" in (cog_check(README) or "")


def test_a_hand_edited_readme_fails(readme_copy: Path) -> None:
    text = readme_copy.read_text(encoding="utf-8")
    stale = text.replace("`position`, `provider_id`, `published_at` |", "`position` |", 1)
    assert stale != text
    readme_copy.write_text(stale, encoding="utf-8")
    assert cog_check(readme_copy) is not None


def test_stale_statements_are_found() -> None:
    assert stale_revisions("schema revision                           0002") == ["0002"]
    assert stale_revisions(f"schema revision {HEAD_REVISION}; took 0.0002 s") == []
    schema_sql = _head_schema_sql()
    assert unknown_schema_names("`ix_article_published_at`", schema_sql) == [
        "ix_article_published_at"
    ]
    assert unknown_schema_names("`ix_article_is_stub_published_at`", schema_sql) == []
    assert diagram_edges('```mermaid\n    topic ||--o{ article_topic : ""\n```') != (
        foreign_key_edges()
    )
