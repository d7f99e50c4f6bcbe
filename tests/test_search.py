"""The search grammar (README: search): news words, operators, fields, CJK text, and
the same articles found on SQLite and PostgreSQL for the same text."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    DATA,
    REAL,
    Archive,
    PostgresArchive,
    imported,
    on_both_engines,
    one_error_line,
    record,
    write,
)

from archive.errors import EXIT_STATUSES
from archive.query import search_query

HISTORY = Path("/work/shared/real-history/microsoft-power-apps-news-150.bundle")
USAGE = next(code for code, meaning in EXIT_STATUSES if meaning.startswith("usage error"))

# Planted records: what news text has and the sample lacks (CJK without spaces,
# words with punctuation, a phrase that would run from one column into the next).
PLANTED = {
    "ja.md": record(
        "https://example.jp/ai-kaigi",
        "東京で人工知能の国際会議が開幕した。機械学習とロボットの研究者が集まった。",
        title='"東京で人工知能の国際会議"',
        excerpt='"AI研究の最前線"',
        publishedDateTime="2021-05-01T09:00:00Z",
        type="article",
    ),
    "zh.md": record(
        "https://example.cn/xinpian",
        "美国宣布新的人工智能芯片出口管制。新冠肺炎疫情期间，增长率达到100%_以上。",
        title='"人工智能芯片出口管制"',
        publishedDateTime="2021-06-01T09:00:00Z",
        type="video",
    ),
    "ko.md": record(
        "https://example.kr/seoul",
        "서울에서 인공지능 회의가 열렸다.",
        title='"서울에서 인공지능 회의"',
        publishedDateTime="2021-07-01T09:00:00Z",
    ),
    "punct.md": record(
        "https://example.com/punct",
        "What's new in C++ and AI/ML after COVID-19? The power-apps team said 3.5 times more.",
        title='"Developers after COVID-19"',
        excerpt='"Whats new for power apps"',
        publishedDateTime="2021-08-01T09:00:00Z",
    ),
    "span.md": record(
        "https://example.com/span",
        "Cameras everywhere, or not.",
        title='"Cities debate facial"',
        excerpt='"recognition of faces is not the topic"',
        publishedDateTime="2021-09-01T09:00:00Z",
    ),
    "marks.md": record(
        "https://example.in/hindi",
        "हिन्दी समाचार: भारत में कृत्रिम बुद्धिमत्ता। العَرَبِيَّة والذكاء الاصطناعي.",
        title='"हिन्दी में समाचार"',
        publishedDateTime="2021-11-01T09:00:00Z",
    ),
    "accents.md": record(
        "https://example.ch/zuerich",
        "Les données de Zürich sur l'IA.",
        title='"Données publiques à Zürich"',
        publishedDateTime="2021-10-01T09:00:00Z",
    ),
}


def _history(tmp: Path) -> Path:
    """The real site's records at the last commit of the bundle."""
    clone = tmp / "pa-news"
    subprocess.run(["git", "clone", "-q", str(HISTORY), str(clone)], check=True)
    return clone / "_news"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    planted = tmp_path_factory.mktemp("planted")
    for name, text in PLANTED.items():
        write(planted, name, text)
    return [DATA, REAL, _history(tmp_path_factory.mktemp("history")), planted]


@pytest.fixture(scope="module")
def both(
    postgres_server: str, corpus: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Archive, PostgresArchive]]:
    """The same corpus imported into SQLite and into PostgreSQL, in the same order."""
    with on_both_engines(
        postgres_server, corpus, tmp_path_factory.mktemp("sqlite"), "search"
    ) as pair:
        yield pair


def found(archive: Archive, *args: str) -> list[dict]:
    result = archive.run("search", *args, "--format", "json", "--limit", "100000")
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.output)


def urls(archive: Archive, *args: str) -> set[str]:
    return {row["url"] for row in found(archive, *args)}


# (text, found on the sample: whether at least one article must match)
QUERIES = [
    ("covid-19", True), ("COVID-19", True), ("covid", True), ("power-apps", True),
    ("what's new", True), ("AI/ML", True), ("C++", True), ("foo OR", False),
    ('"unclosed', False), ("NOT", True), ("facial recognition", True),
    ('"facial recognition" police', True), ('"facial recognition"', True),
    ("deepfake* OR clearview", True), ("deepfake*", True), ("police -facial", False),
    ("police NOT facial", False), ("election -deepfake", True), ("privacy OR climate", True),
    ("topic:AI facial", True), ('topic:"Power Apps" teams', True),
    ("provider:theverge.com police", True), ("since:2020-08 until:2020-09 facial", True),
    ("type:video 芯片", True), ("type:video 人工知能", False), ("données", True), ("donnees", True),
    ("Zürich", True), ("cafe", False), ("人工知能", True), ("人工智能", True), ("芯片", True),
    ("知能", True), ("AI研究", True), ("인공지능", True), ("机器 OR 機械学習", True),
    ("人工 -芯片", True), ("100%_以上", True), ("100%以上", False), ("3.5 times", True), ("teams OR 人工知能", True),
    ("facial-recognition", True), ("c++ OR c#", True), ("हिन्दी", True),
    ("बुद्धिमत्ता", True), ("العَرَبِيَّة", True), ("الاصطناعي", True),
]  # fmt: skip


def test_there_are_thirty_queries_with_every_example_of_the_issue():
    texts = {text for text, _ in QUERIES}
    assert len(texts) >= 30
    assert {"covid-19", "power-apps", "what's new", "AI/ML", "C++", "foo OR"} <= texts


@pytest.mark.parametrize(("text", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_both_engines_find_the_same_articles(both, text, expected):
    """Sets, not order: each engine ranks its own way (bm25, ts_rank)."""
    sqlite, postgres = both
    mine, theirs = urls(sqlite, text), urls(postgres, text)
    assert mine == theirs
    assert bool(mine) == expected, mine


def test_covid_19_finds_the_articles_that_mention_it(both):
    for archive in both:
        rows = found(archive, "covid-19")
        text = "lower(title || ' ' || coalesce(excerpt, '') || ' ' || coalesce(body, ''))"
        texts = archive.rows(f"SELECT url FROM article WHERE {text} LIKE ?", "%covid-19%")
        assert {row["url"] for row in rows} >= {url for (url,) in texts} > set()


def test_a_phrase_stays_within_one_column_on_both_engines(both):
    """`facial` ends span.md's title and `recognition` starts its excerpt."""
    for archive in both:
        assert "https://example.com/span" not in urls(archive, '"facial recognition"')
        assert "https://example.com/span" in urls(archive, "facial recognition")


def test_results_are_ranked_with_a_highlighted_snippet(both):
    for archive in both:
        rows = found(archive, "deepfakes")
        assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
        assert "deepfake" in rows[0]["title"].lower()
        assert all("[" in row["snippet"] and "]" in row["snippet"] for row in rows)
        covid = found(archive, "covid-19")
        assert covid and all(
            "[COVID]" in row["snippet"].upper() or "[COVID-19]" in row["snippet"].upper()
            for row in covid
        )
        cjk = found(archive, "人工知能")
        assert cjk[0]["snippet"].count("[人工知能]") == 1


def test_words_with_punctuation_and_cjk_from_articles_search(both):
    for archive in both:
        result = archive.run("articles", "--search", "covid-19 OR 人工知能", "--format", "json")
        assert result.exit_code == 0, result.output
        got = {row["url"] for row in json.loads(result.output)}
        assert {"https://example.jp/ai-kaigi", "https://example.com/punct"} <= got


# --- text the grammar cannot search: one usage line ------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [("*", "no word to search for"), ("()", "no word to search for"),
     ("-facial", "only excludes"), ("NOT facial", "only excludes"),
     ("since:yesterday police", "not a date"), ("-topic:AI police", "cannot exclude")],
)  # fmt: skip
def test_text_without_a_word_is_one_usage_line(sample, text, says):
    line = one_error_line(sample.run("search", text), USAGE)
    assert says in line


def test_a_leading_dash_word_is_a_word_not_an_option(sample):
    """`-facial` would be -f -a ..., `-house` the help option -h."""
    plain = urls(sample, "police")
    without = urls(sample, "police", "-facial")
    assert without < plain
    assert without == plain - urls(sample, "facial")
    assert urls(sample, "police", "-house") <= plain
    # An option's value may start with a dash; -o and -h are still options.
    out = sample.path.parent / "out.csv"
    assert sample.run("search", "police", "-o", str(out), "-facial").exit_code == 0
    assert out.read_text().count("\n") == len(without) + 1


def test_fts_errors_never_reach_the_user_raw(sample, monkeypatch):
    """Should the index refuse a query all the same, the line says so in words."""
    monkeypatch.setattr(search_query, "fts5_match", lambda query: 'bad"syntax')
    line = one_error_line(sample.run("search", "police"))
    assert "fts5" not in line and "syntax" not in line and "cannot search" in line


# --- the CJK index follows the articles -----------------------------------------------


def _cjk_rows(db: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(db) as connection:
        indexed = connection.execute(
            "SELECT rowid, title, excerpt, body FROM article_fts_cjk ORDER BY rowid"
        ).fetchall()
        has = " OR ".join(f"{c} GLOB '*{_glob()}*'" for c in ("title", "excerpt", "body"))
        expected = connection.execute(
            f"SELECT id, title, excerpt, body FROM article WHERE {has} ORDER BY id"
        ).fetchall()
        connection.execute(
            "INSERT INTO article_fts_cjk(article_fts_cjk) VALUES ('integrity-check')"
        )
    return indexed, expected


def _glob() -> str:
    ranges = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in search_query.CJK_RANGES)
    return f"[{ranges}]"


def test_the_migration_and_the_grammar_name_the_same_cjk_characters():
    from importlib import util

    path = Path(__file__).parent.parent / "migrations" / "versions" / "0008_search_cjk_and_words.py"
    spec = util.spec_from_file_location("m0008", path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert _glob() == module.CJK_GLOB


def test_reimport_keeps_the_cjk_index_in_step(archive, tmp_path):
    folder = tmp_path / "records"
    write(folder, "a.md", PLANTED["ja.md"])
    write(folder, "b.md", PLANTED["punct.md"])
    imported(archive, folder)
    assert urls(archive, "人工知能") == {"https://example.jp/ai-kaigi"}
    # The record changes: the old words go, the new ones come; then it loses its CJK.
    write(folder, "a.md", PLANTED["ja.md"].replace("人工知能", "深層学習"))
    imported(archive, folder)
    assert urls(archive, "人工知能") == set()
    assert urls(archive, "深層学習") == {"https://example.jp/ai-kaigi"}
    indexed, expected = _cjk_rows(archive.path)
    assert indexed == expected and len(indexed) == 1
    write(folder, "a.md", record("https://example.jp/ai-kaigi", "English only now.", title="Plain"))
    imported(archive, folder)
    indexed, expected = _cjk_rows(archive.path)
    assert indexed == expected == []
    write(folder, "b.md", PLANTED["punct.md"].replace("C++", "C++ 東京"))
    imported(archive, folder)
    assert urls(archive, "東京") == {"https://example.com/punct"}
    assert _cjk_rows(archive.path)[0] == _cjk_rows(archive.path)[1]


def test_upgrading_an_archive_indexes_its_cjk_text(archive, tmp_path):
    folder = tmp_path / "records"
    write(folder, "a.md", PLANTED["zh.md"])
    imported(archive, folder)
    assert archive.run("db", "downgrade", "0006").exit_code == 0
    with sqlite3.connect(archive.path) as connection:
        assert not connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name LIKE 'article_fts_cjk%'"
        ).fetchall()
    upgraded = archive.run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert urls(archive, "芯片出口") == {"https://example.cn/xinpian"}
    assert _cjk_rows(archive.path)[0] == _cjk_rows(archive.path)[1]


def test_a_real_history_reimported_commit_by_commit_keeps_both_indexes_right(archive, tmp_path):
    """The real site's records as they changed: every re-import updates the text."""
    clone = tmp_path / "pa"
    subprocess.run(["git", "clone", "-q", str(HISTORY), str(clone)], check=True)
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=%H", "--reverse"],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    for commit in [*log[:: max(1, len(log) // 4)], log[-1]]:
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
        imported(archive, clone / "_news")
        with sqlite3.connect(archive.path) as connection:
            connection.execute("INSERT INTO article_fts(article_fts) VALUES ('integrity-check')")
    indexed, expected = _cjk_rows(archive.path)
    assert indexed == expected
    title = archive.rows("SELECT title FROM article WHERE is_stub = 0 ORDER BY id DESC LIMIT 1")[0][
        0
    ]
    assert archive.rows("SELECT url FROM article WHERE title = ?", title)[0][0] in urls(
        archive, f'"{title}"'
    )


def test_a_search_without_a_word_writes_no_file(sample, tmp_path):
    target = tmp_path / "out.csv"
    for command in (["search", "*"], ["articles", "--search", "()"]):
        one_error_line(sample.run(*command, "-o", str(target)), USAGE)
        assert not target.exists()
