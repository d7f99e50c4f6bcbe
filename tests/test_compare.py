"""Comparing attention (issue 21): `timeline --compare`, `--all-topics`, and the
shapes of the answers (--columns, --sort), through the real CLI on the sample data.

Expected counts are worked out here with plain SQL on the archive file, not with
the code under test.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest
from conftest import DATA, imported, one_error_line


@pytest.fixture
def sample(archive):
    return imported(archive, DATA)


def answer(archive, *args: str) -> list[dict]:
    result = archive.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def per_year(archive, sql: str, *params: str) -> Counter:
    """Own articles per year of publication, of the article ids `sql` selects."""
    connection = sqlite3.connect(archive.path)
    try:
        found = connection.execute(
            "SELECT substr(published_at, 1, 4), count(*) FROM article"
            f" WHERE is_stub = 0 AND published_at IS NOT NULL AND id IN ({sql})"
            " GROUP BY 1",
            params,
        ).fetchall()
    finally:
        connection.close()
    return Counter(dict(found))


def with_topic(name: str) -> str:
    return (
        "SELECT at.article_id FROM article_topic at JOIN topic t ON t.id = at.topic_id"
        f" WHERE t.name = '{name}'"
    )


def test_compare_two_topics_gives_each_count_and_share_of_all_articles(sample):
    rows = answer(sample, "timeline", "--topic", "AI", "--topic", "privacy", "--compare", "--by",
                  "year")  # fmt: skip
    assert list(rows[0]) == ["period", "all_articles", "AI", "AI share", "Privacy",
                             "Privacy share"]  # fmt: skip
    everything = per_year(sample, "SELECT id FROM article")
    ai = per_year(sample, with_topic("AI"))
    privacy = per_year(sample, with_topic("Privacy"))
    years = sorted(set(ai) | set(privacy))
    assert [row["period"] for row in rows] == [
        str(y) for y in range(int(years[0]), int(years[-1]) + 1)
    ]
    for row in rows:
        year, total = row["period"], everything[row["period"]]
        assert row["all_articles"] == total
        assert (row["AI"], row["Privacy"]) == (ai[year], privacy[year])
        assert row["AI share"] == round(ai[year] / total, 4)
        assert row["Privacy share"] == round(privacy[year] / total, 4)
    # Each series is the single-topic timeline's count (which spans only its own years).
    alone = {r["period"]: r["articles"] for r in answer(sample, "timeline", "--topic",
                                                         "Privacy", "--by", "year")}  # fmt: skip
    assert alone == {r["period"]: r["Privacy"] for r in rows if r["period"] in alone}
    assert sum(alone.values()) == sum(r["Privacy"] for r in rows)


def test_compare_gives_an_empty_period_no_share(sample):
    rows = answer(sample, "timeline", "--topic", "AI", "--topic", "Privacy", "--compare",
                  "--since", "2018", "--by", "year")  # fmt: skip
    assert rows[0] == {"period": "2018", "all_articles": 0, "AI": 0, "AI share": None,
                       "Privacy": 0, "Privacy share": None}  # fmt: skip
    csv = sample.run("timeline", "--topic", "AI", "--topic", "Privacy", "--compare", "--since",
                     "2018", "--by", "year", "--format", "csv").stdout.splitlines()  # fmt: skip
    assert csv[1] == "2018,0,0,,0,"


def test_compare_providers(sample):
    rows = answer(sample, "timeline", "--provider", "theguardian.com", "--provider",
                  "www.theverge.com", "--compare", "--by", "year")  # fmt: skip
    assert list(rows[0])[2:] == ["theguardian.com", "theguardian.com share", "www.theverge.com",
                                 "www.theverge.com share"]  # fmt: skip
    guardian = per_year(
        sample,
        "SELECT a.id FROM article a JOIN provider p ON p.id = a.provider_id"
        " WHERE p.domain = 'theguardian.com'",
    )
    assert {r["period"]: r["theguardian.com"] for r in rows if r["theguardian.com"]} == guardian


def test_compare_needs_series_and_refuses_all_topics(sample):
    assert "--compare needs" in one_error_line(sample.run("timeline", "--compare"), 2)
    error = one_error_line(
        sample.run("timeline", "--topic", "AI", "--topic", "Privacy", "--compare", "--all-topics"),
        2,
    )
    assert "--all-topics" in error


def test_all_topics_means_and(sample):
    both = set(
        answer_urls(sample, "articles", "--topic", "AI", "--topic", "Elections", "--all-topics")
    )
    ai = set(answer_urls(sample, "articles", "--topic", "AI"))
    elections = set(answer_urls(sample, "articles", "--topic", "Elections"))
    assert both == ai & elections
    assert both and both != ai | elections
    providers = answer(sample, "providers", "--topic", "AI", "--topic", "Elections", "--all-topics")
    assert sum(p["articles"] for p in providers) == len(both)
    timeline = answer(sample, "timeline", "--topic", "AI", "--topic", "elections", "--all-topics")
    assert sum(p["articles"] for p in timeline) == len(both)
    # The same topic twice is still that topic.
    assert (
        set(answer_urls(sample, "articles", "--topic", "AI", "--topic", "ai", "--all-topics")) == ai
    )


def answer_urls(archive, *args: str) -> list[str]:
    return [row["url"] for row in answer(archive, *args)]


def test_columns_choose_and_order_the_columns(sample):
    rows = answer(sample, "articles", "--columns", "url,title")
    assert rows and all(list(row) == ["url", "title"] for row in rows)
    csv = sample.run("providers", "--columns", "domain,articles", "--format", "csv")
    assert csv.stdout.splitlines()[0] == "domain,articles"
    result = sample.run("articles", "--columns", "title,nope")
    error = one_error_line(result, 2)
    assert "'nope'" in error and "published_at, title, provider" in error


def test_sort_ascending_and_descending(sample):
    rows = answer(sample, "articles", "--sort", "-quality")
    qualities = [r["quality"] for r in rows]
    present = [q for q in qualities if q is not None]
    assert present == sorted(present, reverse=True)
    assert qualities[len(present) :] == [None] * (len(qualities) - len(present))  # NULLs last
    rows = answer(sample, "topics", "--sort", "name", "--limit", "3")
    names = [r["name"] for r in answer(sample, "topics")]
    assert [r["name"] for r in rows] == sorted(names, key=str.casefold)[:3]
    assert "no column 'size'" in one_error_line(sample.run("topics", "--sort", "size"), 2)


# --- hints -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["providers", "AI"], "did you mean --topic AI?"),
        (["articles", "computer", "vision"], "did you mean --topic 'computer vision'?"),
        (["topics", "theguardian.com"], "did you mean --provider theguardian.com?"),
        (["timeline", "WWW.TheVerge.com"], "did you mean --provider WWW.TheVerge.com?"),
    ],
)
def test_an_extra_argument_naming_a_topic_or_provider_suggests_the_option(sample, args, hint):
    error = one_error_line(sample.run(*args), 2)
    assert error.endswith(hint), error


def test_an_extra_argument_naming_nothing_gets_no_suggestion(sample):
    error = one_error_line(sample.run("providers", "Nonsense"), 2)
    assert "did you mean" not in error and "--help" in error
    # stats has no --topic: no suggestion of one
    assert "did you mean" not in one_error_line(sample.run("stats", "AI"), 2)


# --- typed answers ----------------------------------------------------------------------


def test_topics_are_arrays_in_every_json_answer(sample):
    """articles, export of article_summary (SQLite keeps its topics as JSON text) and
    a user's own SQL over it: the same arrays, never a string to parse again."""
    articles = {r["url"]: r["topics"] for r in answer(sample, "articles")}
    exported = {r["url"]: r["topics"] for r in answer(sample, "export", "article_summary")
                if not r["is_stub"]}  # fmt: skip
    sql = {r["url"]: r["topics"] for r in answer(sample, "sql", "SELECT url, topics FROM"
                                                 " article_summary WHERE NOT is_stub")}  # fmt: skip
    assert articles == exported == sql
    assert all(isinstance(topics, list) for topics in articles.values())
    assert ["Computer Vision", "AI"] in articles.values()
    jsonl = sample.run("export", "article_summary", "--format", "jsonl").stdout.splitlines()
    assert all(isinstance(json.loads(line)["topics"], list) for line in jsonl)
