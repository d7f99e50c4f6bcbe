"""The docs say what the code does: README.md and docs/*.md, their generated parts
current, every command and option and every key of the record format documented, the
schema facts (revision, constraint names, diagram) true, and the site builds.

The generated parts (command reference, examples' output, tables of tables and views,
the record format, the exit statuses, the index of commands) are cog blocks
(docs/cog_helpers.py); regenerate them with `cog -r -I . README.md docs/*.md`. Each
check below is a function returning what is wrong, so that the mutation tests at the
end can show it finds a change made without regenerating.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import click
import pytest
from cogapp import Cog
from cogapp.cogapp import CogCheckFailed
from conftest import ROOT

from archive import record_format as fmt
from archive.cli import cli
from archive.store import models
from archive.store.schema_version import HEAD_REVISION

README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Every page a reader meets.
PAGES = [README, *sorted(DOCS.glob("*.md"))]
REGENERATE = "run `cog -r -I . README.md docs/*.md` and commit the result"

# Examples of a command's --help that a page shows as typed, hand-written rather than
# generated, each for a reason. Every other help example a page shows must be a cog
# block, so that its output cannot go stale (the README's hand-written `archive stats`
# did: 22 articles where the real output said 25).
HAND_WRITTEN = {
    "archive export article_summary -o articles.csv --bom --excel-safe": "writes a file",
    "archive serve --write-metadata metadata.json": "writes a file and names the archive's path",
}


def _load_cog_helpers() -> ModuleType:
    # docs/ is not installed (nothing needs it at run time); load it from the checkout.
    spec = importlib.util.spec_from_file_location("cog_helpers", DOCS / "cog_helpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load_cog_helpers()


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _all_pages() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def _narrative(text: str) -> str:
    """A page without its generated blocks: what a person wrote."""
    return re.sub(r"\[\[\[cog.*?\[\[\[end\]\]\]", "", text, flags=re.DOTALL)


# --- the checks ------------------------------------------------------------------------


def cog_check(page: Path) -> str | None:
    """What `cog --check` reports about `page`, or None when it is current."""
    out = io.StringIO()
    cog = Cog()
    cog.set_output(stdout=out, stderr=out)
    try:
        # -I: the blocks import docs.cog_helpers, also when `page` is a copy elsewhere.
        cog.callable_main(["cog", "--check", "--diff", "-I", str(ROOT), str(page)])
    except CogCheckFailed:
        return out.getvalue()
    return None


def commands_without_narrative(text: str) -> list[str]:
    """Commands that no hand-written part of `text` mentions as `archive COMMAND`."""
    narrative = _narrative(text)
    missing = []
    for path, _ in helpers.walk_commands():
        if not path:
            continue
        name = " ".join(("archive", *path))
        # `archive [--db PATH] import` is how the docs show a global option.
        words = r"(?:\s+\[--db PATH\])?\s+".join(re.escape(word) for word in name.split())
        if not re.search(words + r"(?![\w-])", narrative):
            missing.append(name)
    return missing


def reference_sections(text: str) -> dict[tuple[str, ...], str]:
    """The command reference, by command path: heading to the next heading."""
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
    """Schema revisions `text` names that are not the head (e.g. `schema revision 0002`)."""
    return [
        revision
        for revision in _revision_ids()
        if revision != HEAD_REVISION
        and re.search(rf"(?<![\w.]){re.escape(revision)}(?![\w.])", text)
    ]


def unknown_schema_names(text: str, schema_sql: str) -> list[str]:
    """Constraint and index names in `text` (`pk_...`, `ix_...`) the schema lacks."""
    named = set(re.findall(r"\b(?:pk|fk|ix|uq|ck)_\w+", text))
    return sorted(name for name in named if not re.search(rf"\b{name}\b", schema_sql))


def _head_schema_sql() -> str:
    with helpers.head_database() as connection:
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master").all()
    return "\n".join(f"{name}\n{sql or ''}" for name, sql in rows)


def diagram_edges(text: str) -> Counter[tuple[str, str]]:
    """(parent, child) for each relationship line of the schema's mermaid diagram."""
    diagram = re.search(r"```mermaid\n(.*?)```", text, flags=re.DOTALL)
    assert diagram, "the page has no mermaid diagram"
    return Counter(re.findall(r"^\s*(\w+) \|\|--o\{ (\w+) :", diagram[1], flags=re.MULTILINE))


def foreign_key_edges() -> Counter[tuple[str, str]]:
    return Counter(
        (key.column.table.name, table.name)
        for table in models.SQLModel.metadata.tables.values()
        for key in table.foreign_keys
    )


def _help_examples() -> set[str]:
    return {line for path, _ in helpers.walk_commands() for line in helpers.help_examples(path)}


def hand_written_examples(text: str) -> list[str]:
    """Help examples shown as `$ archive ...` outside a cog block, and not excused."""
    shown = re.findall(r"^\$ (archive .*)$", _narrative(text), flags=re.MULTILINE)
    examples = _help_examples()
    return [line for line in shown if line in examples and line not in HAND_WRITTEN]


def format_rows(text: str) -> dict[str, list[str]]:
    """The record format's table: its key cell (as `code`) to the row's other cells."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 4 and re.fullmatch(r"`[^`]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def format_keys_missing(text: str) -> list[str]:
    """Keys of archive/record_format.py without their own row (column and type exact)."""
    expected = {
        **{f.key: [f"`article.{f.column}`", f.kind] for f in fmt.ARTICLE_FIELDS},
        **{f"{fmt.PROVIDER_KEY}.{f.key}": [f"`provider.{f.column}`", f.kind]
           for f in fmt.PROVIDER_FIELDS},
        **{f"{fmt.IMAGES_KEY}[].{f.key}": [f"`image.{f.column}`", f.kind]
           for f in fmt.IMAGE_FIELDS},
    }  # fmt: skip
    rows = format_rows(text)
    missing = [key for key, cells in expected.items() if rows.get(key, [])[:2] != cells]
    structure = (fmt.PROVIDER_KEY, fmt.IMAGES_KEY, fmt.TOPICS_KEY, fmt.RELATED_KEY)
    return missing + [key for key in structure if key not in rows]


def pages_listing_exit_statuses(pages: dict[str, str]) -> list[str]:
    """The pages with a table row per exit status (`| `130` | ...`)."""
    return [name for name, text in pages.items() if re.search(r"^\| `130` \|", text, re.M)]


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # Not --quiet: it hides the warnings that --strict counts, and the build passes.
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip


# --- the docs as they are ---------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_generated_parts_are_current(page: Path) -> None:
    report = cog_check(page)
    assert report is None, f"{page.name} is out of date: {REGENERATE}\n{report}"


GENERATED = {
    "reference.md": [helpers.command_reference],
    "schema.md": [helpers.tables_table, helpers.views_table],
    "record-format.md": [helpers.record_format_table],
    "development.md": [helpers.exit_status_table],
    "index.md": [helpers.commands_table],
}


@pytest.mark.parametrize("name", GENERATED)
def test_each_page_holds_its_generated_parts(name: str) -> None:
    # cog --check passes on a page whose blocks were deleted or hand-edited into
    # plain text; the generated text itself must be there.
    for part in GENERATED[name]:
        assert part() in _page(name), f"{name} lacks the output of {part.__name__}(): {REGENERATE}"


def test_the_readme_and_questions_show_the_real_stats() -> None:
    stats = helpers.example("stats")
    assert stats in README.read_text(encoding="utf-8")
    assert stats in _page("questions.md")


def test_no_page_shows_a_help_example_by_hand() -> None:
    for page in PAGES:
        assert hand_written_examples(page.read_text(encoding="utf-8")) == [], (
            f"{page.name}: generate these with a cog block calling example(...), or say in"
            " HAND_WRITTEN why not"
        )


def test_hand_written_examples_are_still_examples() -> None:
    assert set(HAND_WRITTEN) <= _help_examples()


def test_every_command_is_mentioned_outside_the_generated_reference() -> None:
    assert commands_without_narrative(_all_pages()) == [], (
        "describe these commands in a docs page (with an example), not only in the"
        " generated reference"
    )


def test_every_option_of_every_command_is_in_its_reference_section() -> None:
    assert options_missing_from_reference(_page("reference.md")) == [], REGENERATE


def test_every_key_of_the_format_has_its_own_row() -> None:
    assert format_keys_missing(_page("record-format.md")) == []


def test_the_exit_statuses_are_listed_in_one_place() -> None:
    pages = {page.name: page.read_text(encoding="utf-8") for page in PAGES}
    assert pages_listing_exit_statuses(pages) == ["development.md"]


def test_the_docs_name_no_schema_revision_but_the_head() -> None:
    assert HEAD_REVISION in _revision_ids()
    assert stale_revisions(_all_pages()) == []


def test_constraint_and_index_names_in_the_docs_exist() -> None:
    text = _page("schema.md")
    assert re.search(r"\bix_\w+", text), "the schema's naming sentence names no index"
    assert unknown_schema_names(_all_pages(), _head_schema_sql()) == []


def test_the_diagram_has_one_line_per_foreign_key() -> None:
    assert diagram_edges(_page("schema.md")) == foreign_key_edges()


def test_descriptions_change_no_ddl() -> None:
    # info is Python-only; a `comment` would reach PostgreSQL's DDL and need a migration.
    for table in models.SQLModel.metadata.tables.values():
        assert table.comment is None
        assert all(column.comment is None for column in table.columns)


def test_the_site_builds_without_a_broken_link(tmp_path: Path) -> None:
    done = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "record-format" / "index.html").exists()


def test_every_page_is_in_the_site_nav() -> None:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml names a Python function (!!python/name:) for the mermaid fence.
    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        items = nav.values() if isinstance(nav, dict) else nav
        return [page for item in items for page in pages(item)]  # type: ignore[union-attr]

    assert sorted(pages(config["nav"])) == sorted(p.name for p in PAGES if p != README)


# --- each check finds a change made without regenerating ----------------------------


def _copy(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    copy.write_text(_page(name) if name != "README.md" else README.read_text(encoding="utf-8"),
                    encoding="utf-8")  # fmt: skip
    return copy


def test_a_new_option_fails_until_the_reference_is_regenerated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reference = DOCS / "reference.md"
    copy = _copy(tmp_path, "reference.md")
    command = cli.commands["import"]
    monkeypatch.setattr(
        command, "params", [*command.params, click.Option(["--dummy"], is_flag=True, help="x")]
    )
    assert "--dummy" in (cog_check(reference) or "")
    assert options_missing_from_reference(_page("reference.md")) == ["archive import --dummy"]

    Cog().callable_main(["cog", "-r", "-I", str(ROOT), str(copy)])
    assert cog_check(copy) is None
    assert options_missing_from_reference(copy.read_text(encoding="utf-8")) == []


def test_changed_help_text_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.commands["stats"], "help", "Something else entirely.")
    assert "Something else entirely." in (cog_check(DOCS / "reference.md") or "")


def test_a_new_column_or_description_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import Column, Integer, MetaData

    table = models.SQLModel.metadata.tables["topic"]
    monkeypatch.setitem(table.info, "description", "One row per subject.")
    assert "One row per subject." in (cog_check(DOCS / "schema.md") or "")
    monkeypatch.undo()

    # A copy of the table with one more column, so the real metadata stays untouched.
    changed = table.to_metadata(MetaData())
    changed.append_column(Column("dummy_column", Integer))
    tables = models.SQLModel.metadata.tables
    monkeypatch.setattr(models.SQLModel.metadata, "tables", {**tables, "topic": changed})
    assert "dummy_column" in (cog_check(DOCS / "schema.md") or "")


def test_an_undescribed_table_or_view_stops_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(models.SQLModel.metadata.tables["topic"].info, "description")
    with pytest.raises(ValueError, match="table topic has no description"):
        helpers.tables_table()
    monkeypatch.undo()
    monkeypatch.delitem(models.VIEWS, "topic_article")
    with pytest.raises(ValueError, match="topic_article"):
        helpers.views_table()


def test_a_new_command_without_a_docs_section_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.commands, "frobnicate", click.Command("frobnicate", help="x"))
    assert commands_without_narrative(_all_pages()) == ["archive frobnicate"]
    assert "archive frobnicate" in (cog_check(DOCS / "reference.md") or "")
    # The index cannot list it until it says which page explains it.
    with pytest.raises(ValueError, match="frobnicate"):
        helpers.commands_table()


def test_a_hand_edited_table_fails(tmp_path: Path) -> None:
    copy = _copy(tmp_path, "schema.md")
    text = copy.read_text(encoding="utf-8")
    stale = text.replace("`position`, `provider_id`, `published_at` |", "`position` |", 1)
    assert stale != text
    copy.write_text(stale, encoding="utf-8")
    assert cog_check(copy) is not None


def test_a_stale_stats_example_fails(tmp_path: Path) -> None:
    copy = _copy(tmp_path, "README.md")
    text = copy.read_text(encoding="utf-8")
    stale = re.sub(r"(rows in article +)\d+", r"\g<1>22", text, count=1)
    assert stale != text
    copy.write_text(stale, encoding="utf-8")
    assert "rows in article" in (cog_check(copy) or "")
    # The README before the docs moved: `archive stats` written by hand, not generated.
    by_hand = "```\n$ archive stats\nmetric  value\nrows in article  22\n```\n"
    assert hand_written_examples(by_hand) == ["archive stats"]
    assert hand_written_examples("```\n$ archive stats --limit 1\n```\n") == []


def test_a_key_is_found_by_its_cell_not_by_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    # The old check looked for the key anywhere in the README: `author` passed
    # because the README says "authority".
    text = _page("record-format.md") + "\nThe record is the authority on its article.\n"
    author = fmt.Field("author", "author", "text")
    monkeypatch.setattr(fmt, "ARTICLE_FIELDS", (*fmt.ARTICLE_FIELDS, author))
    assert "author" in text
    assert format_keys_missing(text) == ["author"]
    # A row whose column or type is wrong does not count either.
    monkeypatch.undo()
    wrong = text.replace("| `quality` | `article.quality` | integer |",
                         "| `quality` | `article.quality` | text |")  # fmt: skip
    assert wrong != text
    assert format_keys_missing(wrong) == ["quality"]
    assert format_keys_missing(text.replace("| `topics` |", "| topics |")) == ["topics"]


def test_a_second_list_of_exit_statuses_is_found() -> None:
    pages = {"development.md": _page("development.md"), "importing.md": "| `130` | interrupted |"}
    assert pages_listing_exit_statuses(pages) == ["development.md", "importing.md"]


def test_a_broken_link_fails_the_site(tmp_path: Path) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(DOCS, copy / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    index = copy / "docs" / "index.md"
    text = index.read_text(encoding="utf-8")
    broken = text.replace("(reference.md#archive-db-current)", "(reference.md#no-such)")
    assert broken != text
    index.write_text(broken, encoding="utf-8")
    done = mkdocs_build(copy / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0
    assert "no-such" in done.stdout + done.stderr


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
