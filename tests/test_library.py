"""The library: `from archive import ...` and nothing else (docs/library.md).

Apart from the first test, which runs docs/library.md's examples, every test here
imports only what `archive` exports, as a user of the library would.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT

import archive
from archive import (
    ArchiveError,
    ArchiveUnavailable,
    Filters,
    ImportSummary,
    OutputError,
    UsageError,
    articles,
    cooccur,
    dump,
    explain_story,
    export,
    history,
    import_files,
    largest_stories,
    open_archive,
    open_reader,
    providers,
    related,
    run_sql,
    search,
    show,
    stats,
    timeline,
    topics,
    unknown_names,
    write_rows,
)

LIBRARY_PAGE = ROOT / "docs" / "library.md"
# A ```python block, and the ```text block of what it prints, if one follows it.
_BLOCK = re.compile(r"```python\n(.*?)```\s*(?:```text\n(.*?)```)?", re.DOTALL)

# Runs the page's blocks in order in one namespace, each one's printed output apart.
_RUNNER = """
import contextlib, io, json, sys
outputs = []
namespace = {"__name__": "__main__"}
for code in json.load(sys.stdin):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "docs/library.md", "exec"), namespace)
    outputs.append(printed.getvalue())
print(json.dumps(outputs))
"""


def _page_blocks() -> list[tuple[str, str | None]]:
    page = LIBRARY_PAGE.read_text(encoding="utf-8")
    return [(code, shown or None) for code, shown in _BLOCK.findall(page)]


def test_the_library_page_examples_print_what_the_page_says(tmp_path: Path) -> None:
    blocks = _page_blocks()
    assert len(blocks) >= 8
    (tmp_path / "data").symlink_to(DATA)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps([code for code, _ in blocks]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    for (code, shown), output in zip(blocks, printed, strict=True):
        if shown is not None:
            assert output == shown, f"docs/library.md's block\n{code}\nprinted\n{output}"


def test_the_page_names_every_exported_name() -> None:
    page = LIBRARY_PAGE.read_text(encoding="utf-8")
    unnamed = [name for name in archive.__all__ if f"`{name}" not in page]
    assert unnamed == []


def test_all_lists_exactly_what_loads() -> None:
    assert sorted(archive.__all__) == sorted(archive._WHERE)
    for name in archive.__all__:
        assert getattr(archive, name) is not None
    with pytest.raises(AttributeError):
        archive.no_such_name  # noqa: B018 (the attribute access is the test)


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout.strip()


def test_import_archive_loads_no_sqlalchemy_and_nothing_of_its_own() -> None:
    loaded = _fresh("import sys, archive; print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'sqlmodel', 'alembic', 'archive'))))")  # fmt: skip
    assert loaded == "['archive']"


def test_asking_questions_loads_no_sqlalchemy(tmp_path: Path) -> None:
    import_files(tmp_path / "a.db", [DATA], workers=0)
    code = (
        "import sys\nfrom archive import Filters, open_reader, providers, stats\n"
        f"with open_reader({str(tmp_path / 'a.db')!r}) as r:\n"
        "    print(len(list(providers(r, Filters(topics=['AI'])).rows)), len(list(stats(r).rows)))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))"
    )
    first, heavy = _fresh(code).splitlines()
    assert first.split()[0] == "7"
    assert heavy == "[]"


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("library") / "news.db"
    summary = import_files(db, [DATA], workers=0)
    assert isinstance(summary, ImportSummary)
    assert (summary.files_seen, summary.new, summary.rejected) == (17, 17, 0)
    return db


def test_values_come_back_typed(news: Path) -> None:
    with open_reader(news) as reader:
        first = next(iter(articles(reader, Filters(topics=["AI"])).rows))
        fields = dict(show(reader, first[7]).rows)
    assert first[0] == dt.datetime(2021, 9, 29, 23, 1, tzinfo=dt.timezone.utc)
    assert first[8] is False
    assert fields["published_at"] == first[0]
    assert isinstance(fields["imported_at"], dt.datetime)


def test_every_question_answers(news: Path) -> None:
    url = "https://youtu.be/EXAMPLEvid1"
    with open_reader(news) as reader:
        answers = {
            "providers": providers(reader),
            "providers by story": providers(reader, Filters(topics=["AI"]), by_story=True),
            "topics": topics(reader, by_story=True),
            "articles": articles(reader, search="police"),
            "search": search(reader, "facial recognition"),
            "timeline": timeline(reader, Filters(topics=["AI", "Privacy"]), compare=True),
            "cooccur": cooccur(reader, "AI"),
            "related": related(reader, "https://youtu.be/EXAMPLEvid2"),
            "show": show(reader, url),
            "history": history(reader, url),
            "stats": stats(reader),
        }
        empty = [name for name, rows in answers.items() if not list(rows.rows)]
        assert empty == []
        # data/ holds no copies of one text: no story has two articles.
        assert largest_stories(reader).columns[:2] == ["story", "articles"]
        assert dict(explain_story(reader, url, url).rows)["same_story_in_archive"] is True
        assert unknown_names(reader, Filters(topics=["Privazy"])) != []


def test_the_rules_of_the_options_hold_in_the_library(news: Path) -> None:
    with open_reader(news) as reader:
        with pytest.raises(UsageError, match="by-story"):
            providers(reader, include_related=True, by_story=True)
        with pytest.raises(UsageError, match="compare"):
            timeline(reader, compare=True)
        with pytest.raises(UsageError, match="no search text"):
            search(reader, "  ")


def test_answers_write_to_streams_and_files(news: Path, tmp_path: Path) -> None:
    with open_reader(news) as reader:
        text = io.StringIO()
        assert write_rows(stats(reader), text, format="json", limit=1) == 1
        assert json.loads(text.getvalue()) == [{"metric": "rows in article", "value": 25}]
        target = tmp_path / "topics.csv"
        assert write_rows(topics(reader), target, columns=["name"], sort="name") == 8
        assert target.read_text().splitlines()[:2] == ["name", "AI"]
        with pytest.raises(OutputError):
            write_rows(topics(reader), target)  # exists, and no force
        with pytest.raises(OutputError):
            write_rows(topics(reader), news, format="csv", force=True)  # an archive: never


def test_export_and_sql_are_read_only(news: Path, tmp_path: Path) -> None:
    assert export(news, "topic", output=tmp_path / "t.tsv") == 8
    assert (tmp_path / "t.tsv").read_text().split("\t")[0] == "id"
    with run_sql(news, "-- the topics\nSELECT count(*) AS n FROM topic") as rows:
        assert list(rows.rows) == [(8,)]
    with pytest.raises(ArchiveError, match="read-only"), run_sql(news, "DELETE FROM topic"):
        pass
    with pytest.raises(UsageError, match="never closed"), run_sql(news, "SELECT 1 /* x"):
        pass


def test_dump_rebuilds_the_archive(news: Path, tmp_path: Path) -> None:
    result = dump(news, tmp_path / "records")
    assert result.written == 17
    again = import_files(tmp_path / "again.db", [tmp_path / "records"], workers=0)
    assert again.articles_added == 25
    with pytest.raises(OutputError):
        dump(news, tmp_path / "records")  # its files are there: only with force


def test_open_archive_imports_into_an_open_archive(news: Path) -> None:
    opened = open_archive(news, create=False)
    try:
        assert import_files(opened, [DATA], workers=0).unchanged == 17
    finally:
        opened.close()
    with pytest.raises(ArchiveUnavailable):
        open_archive(news.parent / "none.db", create=False)


def test_a_postgresql_url_is_an_archive_like_a_file(
    postgres_server: str, news: Path, tmp_path: Path
) -> None:
    from conftest import drop_postgres_database, new_postgres_database

    url = new_postgres_database(postgres_server)
    try:
        assert import_files(url, [DATA], workers=0).new == 17
        answers = []
        for location in (news, url):
            with open_reader(location) as reader:
                answers.append(list(providers(reader, Filters(topics=["AI"])).rows))
        assert answers[0] == answers[1]
        assert export(url, "topic", output=tmp_path / "pg.csv", allow_superuser=True) == 8
        with pytest.raises(UsageError, match="never closed"), run_sql(url, "SELECT 1 /* x"):
            pass
    finally:
        drop_postgres_database(postgres_server, url)
