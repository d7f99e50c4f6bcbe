"""The query commands, each through the real CLI on a database built from record files.

Every test checks exact rows (as JSON, so numbers and NULLs are checked too), on the
seed alone, on the sample data in data/, or on small records written here.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from conftest import SEED, imported, one_error_line, record, write

from archive.errors import ArchiveUnavailable

# --- helpers ---------------------------------------------------------------------------

SEED_URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"
NEWSWEEK_URL = "http://newsweek.com/black-lives-matter-activist-hunted-facial-recognition-technology-1525335?utm_source=twitter&utm_medium=social#comments"
NEWSWEEK_STUB_URL = "https://www.newsweek.com/black-lives-matter-activist-hunted-facial-recognition-technology-1525335"
NBC_URL = "https://www.nbcmiami.com/investigations/miami-police-used-facial-recognition-technology-in-protesters-arrest/2278848/"
NYPOST_2020_URL = "https://nypost.com/2020/08/17/de-blasio-calls-for-clear-standards-for-facial-recognition-tech-for-nypd/"
NYPOST_2021_URL = (
    "https://nypost.com/2021/04/06/example-nypd-ran-thousands-of-clearview-ai-searches/"
)
STAR_URL = "https://www.thestar.com.my/metro/metro-news/2020/08/18/convenience-store-boosts-security-with-facial-recognition-technology"
GUARDIAN_MET_URL = "https://www.theguardian.com/technology/2020/jan/24/example-met-police-live-facial-recognition-london"
GUARDIAN_WALES_URL = "https://www.theguardian.com/technology/2020/aug/11/example-south-wales-police-facial-recognition-unlawful"
GUARDIAN_RAIN_URL = "https://www.theguardian.com/environment/2021/sep/29/example-deepmind-ai-predict-rain-nowcasting"
BBC_CLIMATE_URL = "https://www.bbc.co.uk/news/science-environment-example-58731101"
BBC_MINIMAL_URL = "https://www.bbc.co.uk/news/technology-example-54010005"
REUTERS_2019_URL = (
    "https://www.reuters.com/article/us-example-britain-election-deepfakes-idUSKBN1Y20EX"
)
REUTERS_2020_URL = (
    "https://www.reuters.com/article/us-example-eu-privacy-facial-recognition-idUSKBN25G0EX"
)
REUTERS_DETECTORS_URL = (
    "https://www.reuters.com/article/us-example-deepfake-detectors-race-idUSKBN1XU0EX"
)
VERGE_2021_URL = "https://www.theverge.com/2021/1/14/example-ai-moderation-2020-election-review"
WIRED_2019_URL = "https://www.wired.com/story/example-deepfakes-2020-election-platforms/"
AP_URL = "https://apnews.com/article/example-portland-facial-recognition-ban-0f3e9a2b7c"
# data/example_15 and _16: two files for one article; data/example_13 and _14: videos.
VERGE_2020_URL = "https://www.theverge.com/example/2020/9/10/police-facial-recognition-legal-test"
VIDEO_EXPLAINER_URL = "https://youtube.com/watch?v=EXAMPLEvid1"
VIDEO_DETECTORS_URL = "https://youtu.be/EXAMPLEvid2"
LEMONDE_URL = "https://www.lemonde.fr/pixels/article/2020/08/18/example-reconnaissance-faciale-la-cnil-reclame-un-debat_6049201_4408996.html"


def rows(archive, *args: str) -> list[dict]:
    """Run a query command with --format json and return its rows."""
    result = archive.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def column(archive, name: str, *args: str) -> list:
    return [row[name] for row in rows(archive, *args)]


def provider(name, domain, articles, first, last, share):
    return {
        "name": name,
        "domain": domain,
        "articles": articles,
        "first_published": first,
        "last_published": last,
        "share": share,
    }


# --- providers -------------------------------------------------------------------------


def test_providers_of_a_topic_on_the_seed_is_gothamist(seeded):
    assert rows(seeded, "providers", "--topic", "Computer Vision") == [
        provider(
            "Gothamist", "gothamist.com", 1, "2020-08-17T18:08:00Z", "2020-08-17T18:08:00Z", 1.0
        )
    ]


def test_providers_topic_matching_is_case_and_space_insensitive(seeded):
    expected = rows(seeded, "providers", "--topic", "Computer Vision")
    assert rows(seeded, "providers", "--topic", "computer vision") == expected
    assert rows(seeded, "providers", "--topic", "  COMPUTER   vision ") == expected
    assert rows(seeded, "providers", "--topic", "Computer") == []


def test_providers_include_related_counts_the_linked_articles(seeded):
    found = rows(seeded, "providers", "--topic", "Computer Vision", "--include-related")
    assert found == [
        provider(
            "Gothamist", "gothamist.com", 1, "2020-08-17T18:08:00Z", "2020-08-17T18:08:00Z", 0.2
        ),
        provider(
            "NBC 6 South Florida",
            "nbcmiami.com",
            1,
            "2020-08-17T22:15:00Z",
            "2020-08-17T22:15:00Z",
            0.2,
        ),
        provider(
            "New York Post", "nypost.com", 1, "2020-08-17T08:14:00Z", "2020-08-17T08:14:00Z", 0.2
        ),
        provider(
            "Newsweek", "newsweek.com", 1, "2020-08-15T14:57:00Z", "2020-08-15T14:57:00Z", 0.2
        ),
        provider(
            "The Star", "thestar.com.my", 1, "2020-08-18T00:46:00Z", "2020-08-18T00:46:00Z", 0.2
        ),
    ]
    assert sum(row["share"] for row in found) == pytest.approx(1.0)
    # The same with the topic spelled in lower case.
    assert rows(seeded, "providers", "--topic", "computer vision", "--include-related") == found


def test_include_related_counts_each_article_once(archive, records):
    def related(url: str, domain: str, when: str) -> str:
        return (
            f'{{webUrl: "{url}", publishedDateTime: {when},'
            f" provider: {{name: {domain}, domain: {domain}}}}}"
        )

    # a and b both have the topic; b is also a related entry of a; c is linked from both.
    c = related("https://c.example/c", "c.example", "2020-01-03T00:00:00Z")
    b_entry = related("https://b.example/b", "b.example", "2020-01-02T00:00:00Z")
    for name, domain, when, links in (
        ("a", "a.example", "2020-01-01T00:00:00Z", f"[{b_entry}, {c}]"),
        ("b", "b.example", "2020-01-02T00:00:00Z", f"[{c}]"),
    ):
        write(
            records,
            f"{name}.md",
            f'---\nwebUrl: "https://{domain}/{name}"\npublishedDateTime: {when}\n'
            f"provider: {{name: {domain}, domain: {domain}}}\ntopics: [T]\nrelated: {links}\n---\n",
        )
    assert archive.run("import", str(records)).exit_code == 0
    found = rows(archive, "providers", "--topic", "T", "--include-related")
    assert [(r["domain"], r["articles"]) for r in found] == [
        ("a.example", 1),
        ("b.example", 1),
        ("c.example", 1),
    ]
    since = rows(archive, "providers", "--topic", "T", "--include-related", "--since", "2020-01-02")
    assert [(r["domain"], r["articles"]) for r in since] == [("b.example", 1), ("c.example", 1)]


def test_providers_on_sample_data_most_articles_first_then_name(sample):
    found = rows(sample, "providers")
    assert [(r["name"], r["domain"], r["articles"]) for r in found] == [
        ("Example Science Channel", "science-channel.example.com", 2),
        ("Reuters", "reuters.com", 2),
        ("The Guardian", "theguardian.com", 2),
        ("The Verge", "theverge.com", 2),
        ("Associated Press", None, 1),
        ("BBC News", "bbc.co.uk", 1),
        ("Gothamist", "gothamist.com", 1),
        ("Le Monde", "lemonde.fr", 1),
        ("New York Post", "nypost.com", 1),
        ("Newsweek", "newsweek.com", 1),
        ("Wired", "wired.com", 1),
    ]
    # 15 articles with own records: the two files of one Verge article count once.
    assert found[1] == provider(
        "Reuters", "reuters.com", 2, "2019-11-28T06:05:00Z", "2020-08-20T07:00:00Z", 2 / 15
    )
    # Le Monde's +02:00 timestamp is shown in UTC.
    assert found[7]["first_published"] == "2020-08-18T07:30:00Z"
    assert sum(r["share"] for r in found) == pytest.approx(1.0)


def test_providers_repeated_topic_means_any_of_them(sample):
    found = rows(sample, "providers", "--topic", "Climate", "--topic", "elections")
    assert [(r["name"], r["articles"], r["share"]) for r in found] == [
        ("BBC News", 1, 0.25),
        ("Reuters", 1, 0.25),
        ("The Verge", 1, 0.25),
        ("Wired", 1, 0.25),
    ]
    # An article with both topics counts once: every Elections article is also AI.
    assert rows(sample, "providers", "--topic", "AI", "--topic", "Elections") == rows(
        sample, "providers", "--topic", "AI"
    )
    assert [(r["name"], r["articles"]) for r in rows(sample, "providers", "--topic", "AI")] == [
        ("Example Science Channel", 2),
        ("Reuters", 2),
        ("BBC News", 1),
        ("Gothamist", 1),
        ("New York Post", 1),
        ("The Verge", 1),
        ("Wired", 1),
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--until", "2019"], [("Reuters", 1), ("Wired", 1)]),
        (["--since", "2021"], [("BBC News", 1), ("New York Post", 1), ("The Verge", 1)]),
        # --until is inclusive of the whole month and of the whole day.
        (
            ["--since", "2020-08", "--until", "2020-08-17"],
            [("Gothamist", 1), ("Newsweek", 1), ("The Guardian", 1)],
        ),
        (
            ["--since", "2020-08", "--until", "2020-08"],
            [
                ("Associated Press", 1),
                ("Example Science Channel", 1),
                ("Gothamist", 1),
                ("Le Monde", 1),
                ("Newsweek", 1),
                ("Reuters", 1),
                ("The Guardian", 1),
            ],
        ),
        # Le Monde is 2020-08-18T09:30+02:00 = 07:30Z; AP has a date only (00:00Z).
        (
            ["--since", "2020-08-18", "--until", "2020-08-19"],
            [("Associated Press", 1), ("Le Monde", 1)],
        ),
        (["--since", "2020-08-19", "--until", "2020-08-19"], [("Associated Press", 1)]),
        (["--since", "2020-01", "--until", "2020-01"], [("The Guardian", 1)]),
        (["--since", "2022"], []),
    ],
)
def test_providers_since_until(sample, options, expected):
    found = rows(sample, "providers", *options)
    assert [(r["name"], r["articles"]) for r in found] == expected


def test_providers_until_a_timestamp_includes_that_instant(sample):
    # --until means "published on or before": the Gothamist article is published at
    # exactly 2020-08-17T18:08:00Z.
    found = rows(sample, "providers", "--since", "2020-08-17", "--until", "2020-08-17T18:08:00Z")
    assert [(r["name"], r["articles"]) for r in found] == [("Gothamist", 1)]


@pytest.mark.parametrize("bad", ["2020-13", "yesterday", "2020-02-30"])
def test_a_bad_date_is_a_usage_error(sample, bad):
    result = sample.run("providers", "--since", bad)
    assert result.exit_code == 2, result.output
    assert one_error_line(result, exit_code=2).startswith(f"error: not a date: '{bad}'")


# --- topics ----------------------------------------------------------------------------


def test_topics_on_sample_data(sample):
    assert rows(sample, "topics") == [
        {
            "name": "AI",
            "articles": 9,
            "first_published": "2019-10-08T11:00:00Z",
            "last_published": "2021-09-29T23:01:00Z",
        },
        {
            "name": "Computer Vision",
            "articles": 5,
            "first_published": "2020-01-24T11:12:00Z",
            "last_published": "2020-09-11T09:15:00Z",
        },
        {
            "name": "Policing",
            "articles": 5,
            "first_published": "2020-01-24T11:12:00Z",
            "last_published": "2021-04-06T21:45:00Z",
        },
        {
            "name": "Surveillance",
            "articles": 4,
            "first_published": "2020-01-24T11:12:00Z",
            "last_published": "2021-04-06T21:45:00Z",
        },
        {
            "name": "Elections",
            "articles": 3,
            "first_published": "2019-10-08T11:00:00Z",
            "last_published": "2021-01-14T15:30:00Z",
        },
        {
            "name": "Privacy",
            "articles": 3,
            "first_published": "2020-08-11T10:21:00Z",
            "last_published": "2020-08-20T07:00:00Z",
        },
        {
            "name": "Climate",
            "articles": 1,
            "first_published": "2021-09-29T23:01:00Z",
            "last_published": "2021-09-29T23:01:00Z",
        },
        {
            "name": "Deepfakes",
            "articles": 1,
            "first_published": "2020-09-02T12:30:00Z",
            "last_published": "2020-09-02T12:30:00Z",
        },
    ]


@pytest.mark.parametrize(
    "domain", ["theguardian.com", "www.theguardian.com", "WWW.TheGuardian.COM"]
)
def test_topics_of_one_provider(sample, domain):
    found = rows(sample, "topics", "--provider", domain)
    assert [(r["name"], r["articles"]) for r in found] == [
        ("Policing", 2),
        ("Surveillance", 2),
        ("Computer Vision", 1),
        ("Privacy", 1),
    ]
    assert found[0]["first_published"] == "2020-01-24T11:12:00Z"
    assert found[0]["last_published"] == "2020-08-11T10:21:00Z"


def test_topics_of_several_providers_and_a_provider_known_by_name(sample):
    found = rows(sample, "topics", "--provider", "www.NYPost.com", "--provider", "wired.com")
    assert [(r["name"], r["articles"]) for r in found] == [
        ("AI", 2),
        ("Elections", 1),
        ("Policing", 1),
        ("Surveillance", 1),
    ]
    # Associated Press has no domain and no topics: nothing, not an error.
    assert rows(sample, "topics", "--provider", "Associated Press") == []
    assert rows(sample, "topics", "--provider", "no-such-provider.example") == []


def test_topics_since_until(sample):
    found = rows(sample, "topics", "--since", "2021", "--until", "2021-04-06")
    assert [(r["name"], r["articles"]) for r in found] == [
        ("AI", 2),
        ("Elections", 1),
        ("Policing", 1),
        ("Surveillance", 1),
    ]


# --- articles --------------------------------------------------------------------------

OWN_RECORDS_NEWEST_FIRST = [
    BBC_CLIMATE_URL,
    NYPOST_2021_URL,
    VERGE_2021_URL,
    VERGE_2020_URL,
    VIDEO_DETECTORS_URL,
    VIDEO_EXPLAINER_URL,
    REUTERS_2020_URL,
    AP_URL,
    LEMONDE_URL,
    SEED_URL,
    NEWSWEEK_URL,
    GUARDIAN_WALES_URL,
    GUARDIAN_MET_URL,
    REUTERS_2019_URL,
    WIRED_2019_URL,
    BBC_MINIMAL_URL,  # no date: last
]


def test_articles_newest_first_without_stubs(sample):
    assert column(sample, "url", "articles") == OWN_RECORDS_NEWEST_FIRST


def test_articles_row_has_provider_topics_and_nulls(sample):
    found = rows(sample, "articles")
    assert found[9] == {
        "published_at": "2020-08-17T18:08:00Z",
        "title": "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest",
        "provider": "Gothamist",
        "domain": "gothamist.com",
        "topics": ["Computer Vision", "AI"],
        "type": "article",
        "quality": 52,
        "url": SEED_URL,
        "is_stub": False,
    }
    # Topics in the record's order; "Privacy" listed twice is shown once.
    by_url = {r["url"]: r for r in found}
    assert by_url[GUARDIAN_MET_URL]["topics"] == ["Computer Vision", "Surveillance", "Policing"]
    assert by_url[REUTERS_2020_URL]["topics"] == ["AI", "Privacy"]
    assert by_url[AP_URL]["topics"] == []
    assert by_url[BBC_MINIMAL_URL] == {
        "published_at": None,
        "title": None,
        "provider": None,
        "domain": None,
        "topics": [],
        "type": None,
        "quality": None,
        "url": BBC_MINIMAL_URL,
        "is_stub": False,
    }


def test_articles_include_stubs(sample):
    urls = column(
        sample,
        "url",
        "articles",
        "--include-stubs",
        "--since",
        "2020-08-17",
        "--until",
        "2020-08-18",
    )
    assert urls == [LEMONDE_URL, STAR_URL, NBC_URL, SEED_URL, NYPOST_2020_URL]
    stubs = column(sample, "is_stub", "articles", "--include-stubs")
    assert len(stubs) == 25
    assert stubs.count(True) == 9


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--topic", "Computer Vision"],
            [VERGE_2020_URL, VIDEO_EXPLAINER_URL, SEED_URL, NEWSWEEK_URL, GUARDIAN_MET_URL],
        ),
        (
            ["--topic", "climate", "--topic", "PRIVACY"],
            [BBC_CLIMATE_URL, REUTERS_2020_URL, LEMONDE_URL, GUARDIAN_WALES_URL],
        ),
        (["--provider", "theguardian.com"], [GUARDIAN_WALES_URL, GUARDIAN_MET_URL]),
        (["--provider", "www.NYPost.com"], [NYPOST_2021_URL]),
        (["--provider", "Associated Press"], [AP_URL]),
        (
            ["--provider", "reuters.com", "--provider", "wired.com"],
            [REUTERS_2020_URL, REUTERS_2019_URL, WIRED_2019_URL],
        ),
        (
            ["--provider", "theguardian.com", "--include-stubs"],
            [GUARDIAN_RAIN_URL, GUARDIAN_WALES_URL, GUARDIAN_MET_URL],
        ),
        (
            ["--min-quality", "80"],
            [BBC_CLIMATE_URL, VIDEO_EXPLAINER_URL, NEWSWEEK_URL, GUARDIAN_MET_URL],
        ),
        (
            ["--min-quality", "80", "--include-stubs"],
            [
                BBC_CLIMATE_URL,
                GUARDIAN_RAIN_URL,
                VIDEO_EXPLAINER_URL,
                NEWSWEEK_URL,
                GUARDIAN_MET_URL,
            ],
        ),
        (["--min-quality", "88"], [VIDEO_EXPLAINER_URL, NEWSWEEK_URL]),
        (["--min-quality", "89"], []),
        (["--search", "deepfakes"], [REUTERS_2019_URL, WIRED_2019_URL]),
        (
            ["--search", "deepfake*", "--include-stubs"],
            [VIDEO_DETECTORS_URL, REUTERS_2019_URL, REUTERS_DETECTORS_URL, WIRED_2019_URL],
        ),
        (
            ["--search", "facial recognition", "--provider", "nypost.com", "--include-stubs"],
            [NYPOST_2021_URL, NYPOST_2020_URL],
        ),
        (["--since", "2020-08-15", "--until", "2020-08-17"], [SEED_URL, NEWSWEEK_URL]),
        (["--until", "2019-11"], [REUTERS_2019_URL, WIRED_2019_URL]),
        (
            ["--topic", "AI", "--since", "2021", "--min-quality", "70"],
            [BBC_CLIMATE_URL, VERGE_2021_URL],
        ),
        (["--type", "article", "--provider", "wired.com"], [WIRED_2019_URL]),
        (["--type", "video"], [VIDEO_DETECTORS_URL, VIDEO_EXPLAINER_URL]),
    ],
)
def test_articles_filters(sample, options, expected):
    assert column(sample, "url", "articles", *options) == expected


def test_articles_type_filter_is_case_insensitive(archive, records):
    write(
        records,
        "a.md",
        record("https://example.org/a", type="video", publishedDateTime="2020-01-02T00:00:00Z"),
    )
    write(
        records,
        "b.md",
        record("https://example.org/b", type="article", publishedDateTime="2020-01-03T00:00:00Z"),
    )
    write(
        records,
        "c.md",
        record("https://example.org/c", type="Video", publishedDateTime="2020-01-01T00:00:00Z"),
    )
    imported(archive, records)
    assert column(archive, "url", "articles", "--type", "video") == [
        "https://example.org/a",
        "https://example.org/c",
    ]
    assert column(archive, "url", "articles", "--type", "VIDEO") == [
        "https://example.org/a",
        "https://example.org/c",
    ]
    assert column(archive, "type", "articles", "--type", "article") == ["article"]


# --- search ----------------------------------------------------------------------------


def test_search_ranks_rows_and_marks_matches(sample):
    assert rows(sample, "search", "Clearview") == [
        {
            "rank": 1,
            "published_at": "2021-04-06T21:45:00Z",
            "title": "NYPD ran thousands of Clearview AI facial recognition searches, records show",
            "provider": "New York Post",
            "url": NYPOST_2021_URL,
            "snippet": "NYPD ran thousands of [Clearview] AI facial recognition searches, records show",
        }
    ]
    found = rows(sample, "search", "deepfakes")
    assert [r["rank"] for r in found] == list(range(1, len(found) + 1))
    assert {r["url"] for r in found} == {REUTERS_2019_URL, WIRED_2019_URL}
    assert all("[deepfakes]" in r["snippet"].lower() for r in found)


def test_search_filters(sample):
    found = rows(sample, "search", "facial recognition", "--provider", "www.theguardian.com")
    assert {r["url"] for r in found} == {GUARDIAN_MET_URL, GUARDIAN_WALES_URL}
    found = rows(
        sample,
        "search",
        "facial recognition",
        "--topic",
        "computer vision",
        "--until",
        "2020-08-15",
    )
    assert {r["url"] for r in found} == {GUARDIAN_MET_URL, NEWSWEEK_URL}
    # "facial*" also finds Le Monde's "faciale"; both are from 2020-08-18 (UTC).
    found = rows(sample, "search", "facial*", "--since", "2020-08-18", "--until", "2020-08-18")
    assert {r["url"] for r in found} == {STAR_URL, LEMONDE_URL}
    assert rows(sample, "search", "zzzznothing") == []


def test_search_without_matches_prints_the_header_only(sample):
    result = sample.run("search", "zzzznothing", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"rank,published_at,title,provider,url,snippet\r\n"


@pytest.mark.parametrize("text", ['"unclosed', "AND", "a.b", "(x", "x OR", "NOT"])
def test_search_text_is_never_a_syntax_error(sample, text):
    """README: search. What FTS5 would refuse is searched as words."""
    for command in (["search", text], ["articles", "--search", text]):
        result = sample.run(*command, "--format", "csv")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(("rank,", "published_at,")), result.output


def test_search_finds_text_in_a_body_and_follows_updates(archive, records):
    path = write(
        records,
        "a.md",
        record(
            "https://example.org/body",
            body="The quick zyzzyva beetle jumps.\n",
            title='"A plain title"',
            publishedDateTime="2020-05-01T00:00:00Z",
        ),
    )
    imported(archive, records)
    found = rows(archive, "search", "zyzzyva")
    assert [(r["url"], r["title"]) for r in found] == [
        ("https://example.org/body", "A plain title")
    ]
    assert "[zyzzyva]" in found[0]["snippet"]

    # The file changes: body and title; the index follows the article table.
    path.write_text(
        record(
            "https://example.org/body",
            body="Now about a quokka instead.\n",
            title='"A changed headline"',
            publishedDateTime="2020-05-01T00:00:00Z",
        ),
        encoding="utf-8",
    )
    imported(archive, records)
    assert archive.rows("SELECT count(*) FROM article") == [(1,)]
    assert rows(archive, "search", "zyzzyva") == []
    assert rows(archive, "search", "plain") == []
    assert [r["title"] for r in rows(archive, "search", "quokka")] == ["A changed headline"]
    assert [r["title"] for r in rows(archive, "search", "headline")] == ["A changed headline"]
    assert [r["url"] for r in rows(archive, "articles", "--search", "quokka")] == [
        "https://example.org/body"
    ]


def test_search_no_longer_finds_a_removed_orphan_stub(archive, records):
    related = (
        '\n  - title: "Unicornfish sightings"\n    webUrl: "https://example.org/stub"'
        '\n    excerpt: "Rare unicornfish off the reef"'
    )
    path = write(records, "a.md", record("https://example.org/own", title='"Own"', related=related))
    imported(archive, records)
    found = rows(archive, "search", "unicornfish")
    assert [(r["url"], r["title"]) for r in found] == [
        ("https://example.org/stub", "Unicornfish sightings")
    ]
    # The record no longer names the stub: it is removed, and so is its index entry.
    path.write_text(record("https://example.org/own", title='"Own"', related="[]"), "utf-8")
    imported(archive, records)
    assert archive.rows("SELECT url FROM article") == [("https://example.org/own",)]
    assert rows(archive, "search", "unicornfish") == []
    assert rows(archive, "search", "reef") == []
    # A later article may be given the removed stub's id: a stale index entry would
    # then make it match the stub's words.
    write(records, "b.md", record("https://example.org/next", title='"Seahorse news"'))
    imported(archive, records)
    assert rows(archive, "search", "unicornfish") == []
    assert rows(archive, "search", "reef") == []
    assert [r["url"] for r in rows(archive, "search", "seahorse")] == ["https://example.org/next"]
    assert archive.rows(
        "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'unicornfish OR reef'"
    ) == [(0,)]


def test_search_sees_a_stub_completed_by_its_own_record(archive, records):
    related = '\n  - title: "Stub title"\n    webUrl: "https://example.org/later"'
    write(records, "1.md", record("https://example.org/first", related=related))
    imported(archive, records)
    assert [r["title"] for r in rows(archive, "search", "stub")] == ["Stub title"]
    write(
        records, "2.md", record("https://www.example.org/later?utm_source=x", title='"Full story"')
    )
    imported(archive, records)
    assert rows(archive, "search", "stub") == []
    assert [r["title"] for r in rows(archive, "search", "story")] == ["Full story"]


@pytest.mark.parametrize("max_parameters", [None, 999, 40])
def test_every_article_of_a_large_batch_is_written_and_indexed(
    archive, records, monkeypatch, max_parameters
):
    # 260 records with two related entries each: 750 new articles in the first
    # 250-file chunk and 30 in the second, written in multi-row statements whose
    # size also depends on how many parameters the driver takes (999: SQLite
    # before 3.32; 40: two rows per statement).
    from archive.ingest import statements

    if max_parameters is not None:
        monkeypatch.setattr(statements, "_max_parameters", lambda dialect: max_parameters)
    for n in range(260):
        related = "".join(
            f'\n  - title: "kelpforest stub{n}x{k}"\n    webUrl: "https://example.org/s/{n}/{k}"'
            for k in range(2)
        )
        write(
            records,
            f"{n:03d}.md",
            record(f"https://example.org/a/{n}", title=f'"kelpforest own{n}"', related=related),
        )
    result = archive.run("import", "--workers", "0", str(records))
    assert result.exit_code == 0, result.output
    titles = dict(archive.rows("SELECT id, title FROM article"))
    assert len(titles) == 780
    assert set(titles.values()) == {f"kelpforest own{n}" for n in range(260)} | {
        f"kelpforest stub{n}x{k}" for n in range(260) for k in range(2)
    }
    matched = archive.rows("SELECT rowid FROM article_fts WHERE article_fts MATCH 'kelpforest'")
    assert sorted(rowid for (rowid,) in matched) == sorted(titles)
    found = rows(archive, "search", "stub259x1")
    assert [r["title"] for r in found] == ["kelpforest stub259x1"]
    # The index holds exactly the article table's text, nothing more or less.
    connection = sqlite3.connect(archive.path)
    try:
        connection.execute(
            "INSERT INTO article_fts(article_fts, rank) VALUES ('integrity-check', 1)"
        )
    finally:
        connection.close()


# --- timeline --------------------------------------------------------------------------


@pytest.fixture
def jan_and_mar(archive, records):
    """Four articles in January and March 2020 only (and a February stub, not counted)."""
    feb_stub = (
        '\n  - webUrl: "https://example.org/feb-stub"\n    publishedDateTime: 2020-02-15T12:00:00Z'
    )
    write(
        records,
        "1.md",
        record(
            "https://example.org/1",
            publishedDateTime="2020-01-27T10:00:00Z",
            topics="[AI]",
            related=feb_stub,
        ),
    )
    write(
        records,
        "2.md",
        record("https://example.org/2", publishedDateTime="2020-01-29T10:00:00Z", topics="[Other]"),
    )
    write(
        records,
        "3.md",
        record("https://example.org/3", publishedDateTime="2020-03-02T00:30:00Z", topics="[ai]"),
    )
    write(
        records,
        "4.md",
        record("https://example.org/4", publishedDateTime="2020-03-31T23:59:59Z", topics="[Other]"),
    )
    return imported(archive, records)


def period(label, articles, all_articles=None, share=None):
    """A timeline row; without all_articles, one of a timeline of everything (no share)."""
    if all_articles is None:
        return {"period": label, "articles": articles}
    return {"period": label, "articles": articles, "all_articles": all_articles, "share": share}


def test_timeline_by_month_includes_empty_months(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--by", "month") == [
        period("2020-01", 2),
        period("2020-02", 0),
        period("2020-03", 2),
    ]
    # month is the default
    assert rows(jan_and_mar, "timeline") == rows(jan_and_mar, "timeline", "--by", "month")


def test_timeline_share_of_a_topic(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--topic", "AI") == [
        period("2020-01", 1, 2, 0.5),
        period("2020-02", 0, 0, None),
        period("2020-03", 1, 2, 0.5),
    ]
    assert rows(jan_and_mar, "timeline", "--topic", "ai", "--by", "year") == [
        period("2020", 2, 4, 0.5)
    ]


def test_timeline_by_week_has_iso_week_labels(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--by", "week", "--topic", "AI") == [
        period("2020-W05", 1, 2, 0.5),
        period("2020-W06", 0, 0, None),
        period("2020-W07", 0, 0, None),
        period("2020-W08", 0, 0, None),
        period("2020-W09", 0, 0, None),
        period("2020-W10", 1, 1, 1.0),
    ]


def test_timeline_by_day(jan_and_mar):
    found = rows(jan_and_mar, "timeline", "--by", "day")
    assert len(found) == 5 + 29 + 31  # 2020-01-27 .. 2020-03-31, a leap year
    assert found[0] == period("2020-01-27", 1)
    assert found[1] == period("2020-01-28", 0)
    assert found[2] == period("2020-01-29", 1)
    assert found[-1] == period("2020-03-31", 1)
    assert [r["period"] for r in found if r["articles"]] == [
        "2020-01-27",
        "2020-01-29",
        "2020-03-02",
        "2020-03-31",
    ]
    assert "2020-02-29" in [r["period"] for r in found]


def test_timeline_since_until(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--since", "2020-03") == [period("2020-03", 2)]
    assert rows(jan_and_mar, "timeline", "--until", "2020-01") == [period("2020-01", 2)]
    # --until a day includes that whole day; the share counts only the period's
    # articles inside the range.
    assert rows(jan_and_mar, "timeline", "--topic", "AI", "--until", "2020-03-02") == [
        period("2020-01", 1, 2, 0.5),
        period("2020-02", 0, 0, None),
        period("2020-03", 1, 1, 1.0),
    ]
    assert rows(
        jan_and_mar, "timeline", "--by", "day", "--since", "2020-03-02", "--until", "2020-03-02"
    ) == [period("2020-03-02", 1)]


def test_timeline_range_shows_quiet_periods_at_its_edges(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--since", "2019-12", "--until", "2020-04") == [
        period("2019-12", 0),
        period("2020-01", 2),
        period("2020-02", 0),
        period("2020-03", 2),
        period("2020-04", 0),
    ]


def test_timeline_by_provider_on_sample_data(sample):
    found = rows(sample, "timeline", "--provider", "theguardian.com", "--by", "year")
    assert found == [period("2020", 2, 10, round(2 / 10, 4))]


def test_a_period_without_any_article_has_no_share(jan_and_mar):
    """0 of 0 articles is no share at all: null in JSON, empty in CSV, not 0."""
    csv = jan_and_mar.run("timeline", "--topic", "AI", "--format", "csv").stdout.splitlines()
    assert csv[2] == "2020-02,0,0,"
    assert rows(jan_and_mar, "timeline", "--topic", "AI")[1]["share"] is None


def test_a_timeline_of_everything_has_no_share_column(jan_and_mar):
    for args in ([], ["--since", "2020"], ["--by", "year"]):
        assert {tuple(row) for row in rows(jan_and_mar, "timeline", *args)} == {
            ("period", "articles")
        }


def test_timeline_with_nothing_matching_is_empty(jan_and_mar):
    assert rows(jan_and_mar, "timeline", "--topic", "nothing") == []


# --- cooccur ---------------------------------------------------------------------------


def test_cooccur_on_sample_data(sample):
    assert rows(sample, "cooccur", "--topic", "AI") == [
        {"name": "Elections", "articles": 3, "share": 3 / 9},
        {"name": "Computer Vision", "articles": 2, "share": 2 / 9},
        {"name": "Climate", "articles": 1, "share": 1 / 9},
        {"name": "Deepfakes", "articles": 1, "share": 1 / 9},
        {"name": "Policing", "articles": 1, "share": 1 / 9},
        {"name": "Privacy", "articles": 1, "share": 1 / 9},
        {"name": "Surveillance", "articles": 1, "share": 1 / 9},
    ]
    assert rows(sample, "cooccur", "--topic", " computer VISION ") == [
        {"name": "Policing", "articles": 3, "share": 3 / 5},
        {"name": "AI", "articles": 2, "share": 2 / 5},
        {"name": "Surveillance", "articles": 1, "share": 1 / 5},
    ]


def test_cooccur_with_filters(sample):
    assert rows(sample, "cooccur", "--topic", "AI", "--provider", "reuters.com") == [
        {"name": "Elections", "articles": 1, "share": 0.5},
        {"name": "Privacy", "articles": 1, "share": 0.5},
    ]
    assert rows(sample, "cooccur", "--topic", "AI", "--since", "2021") == [
        {"name": "Climate", "articles": 1, "share": 1 / 3},
        {"name": "Elections", "articles": 1, "share": 1 / 3},
        {"name": "Policing", "articles": 1, "share": 1 / 3},
        {"name": "Surveillance", "articles": 1, "share": 1 / 3},
    ]
    assert rows(sample, "cooccur", "--topic", "Climate", "--until", "2020") == []
    assert rows(sample, "cooccur", "--topic", "no such topic") == []


def test_cooccur_requires_a_topic(sample):
    result = sample.run("cooccur")
    assert result.exit_code == 2


# --- related ---------------------------------------------------------------------------


def link(direction, position, published, title, provider, domain, url, is_stub):
    return {
        "direction": direction,
        "position": position,
        "published_at": published,
        "title": title,
        "provider": provider,
        "domain": domain,
        "url": url,
        "is_stub": is_stub,
    }


SEED_LINKS = [
    link(
        "links to",
        0,
        "2020-08-15T14:57:00Z",
        "Black Lives Matter Activist Hunted by NYPD Facial Recognition Technology",
        "Newsweek",
        "newsweek.com",
        NEWSWEEK_URL,
        False,
    ),
    link(
        "links to",
        1,
        "2020-08-17T22:15:00Z",
        "Miami Police Used Facial Recognition Technology in Protester's Arrest",
        "NBC 6 South Florida",
        "nbcmiami.com",
        NBC_URL,
        True,
    ),
    link(
        "links to",
        2,
        "2020-08-17T08:14:00Z",
        "De Blasio calls for ‘clear standards’ for facial recognition tech for NYPD",
        "New York Post",
        "nypost.com",
        NYPOST_2020_URL,
        True,
    ),
    link(
        "links to",
        3,
        "2020-08-18T00:46:00Z",
        "Convenience store boosts security with facial recognition technology",
        "The Star",
        "thestar.com.my",
        STAR_URL,
        True,
    ),
    link(
        "linked from",
        0,
        "2020-08-15T14:57:00Z",
        "Black Lives Matter Activist Hunted by NYPD Facial Recognition Technology",
        "Newsweek",
        "newsweek.com",
        NEWSWEEK_URL,
        False,
    ),
]


@pytest.mark.parametrize(
    "url",
    [
        SEED_URL,
        "http://www.gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest/?utm_source=twitter&utm_campaign=x#top",
        "HTTPS://GOTHAMIST.COM/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest",
        # the record's ampWebUrl identifies the same article
        "https://champ.gothamist.com/champ/gothamist/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest",
    ],
)
def test_related_links_to_and_linked_from(sample, url):
    assert rows(sample, "related", url) == SEED_LINKS


def test_related_of_a_stub_and_of_an_article_linking_twice(sample):
    assert rows(sample, "related", NBC_URL) == [
        link(
            "linked from",
            1,
            "2020-08-17T18:08:00Z",
            "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest",
            "Gothamist",
            "gothamist.com",
            SEED_URL,
            False,
        ),
    ]
    # Example 12 names the same related article twice: both links are shown.
    found = rows(sample, "related", REUTERS_2019_URL)
    assert [(r["direction"], r["position"], r["url"]) for r in found] == [
        ("links to", 0, REUTERS_DETECTORS_URL),
        ("links to", 1, REUTERS_DETECTORS_URL),
    ]
    # An article without related entries that nothing links to.
    assert rows(sample, "related", AP_URL) == []


def test_related_on_the_seed_alone(seeded):
    found = rows(seeded, "related", NEWSWEEK_URL)  # written differently from the seed's URL
    assert found == [
        link(
            "linked from",
            0,
            "2020-08-17T18:08:00Z",
            "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest",
            "Gothamist",
            "gothamist.com",
            SEED_URL,
            False,
        ),
    ]


@pytest.mark.parametrize("command", ["related", "show"])
def test_unknown_url_is_an_error(sample, command):
    result = sample.run(command, "https://example.org/never-imported")
    assert result.exit_code == 1, result.output
    assert one_error_line(result) == "error: no article with URL https://example.org/never-imported"


# --- show ------------------------------------------------------------------------------


def test_show_an_article_in_full(archive, seed_dir):
    imported(archive, seed_dir)
    found = rows(
        archive,
        "show",
        "https://www.gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest?fbclid=abc",
    )
    assert isinstance(found, dict)  # one object: `jq .title` reads it
    as_dict = found
    assert as_dict["url"] == SEED_URL
    assert as_dict["title"] == (
        "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest"
    )
    assert as_dict["provider"] == "Gothamist"
    assert as_dict["provider_domain"] == "gothamist.com"
    assert as_dict["topics"] == ["Computer Vision", "AI"]
    assert as_dict["published_at"] == "2020-08-17T18:08:00Z"
    assert as_dict["quality"] == 52
    assert as_dict["heat"] == -1
    assert as_dict["published"] is False
    assert as_dict["is_stub"] is False
    assert as_dict["category"] == "news"
    assert as_dict["type"] == "article"
    assert as_dict["images"] == [
        {"url": "https://cms.prod.nypr.digital/images/310236/original", "width": 2048,
         "height": 1365}
    ]  # fmt: skip
    assert as_dict["links_to"] == [
        {"url": NEWSWEEK_STUB_URL, "provider": "Newsweek"},
        {"url": NBC_URL, "provider": "NBC 6 South Florida"},
        {"url": NYPOST_2020_URL, "provider": "New York Post"},
        {"url": STAR_URL, "provider": "The Star"},
    ]
    assert as_dict["linked_from"] == []
    # On a terminal (and in CSV) the same article is a `field │ value` list.
    table = archive.run("show", SEED_URL, "--format", "csv").stdout.splitlines()
    assert f"links_to,{NBC_URL} (NBC 6 South Florida)" in table
    assert "image[0],https://cms.prod.nypr.digital/images/310236/original (2048x1365)" in table
    assert as_dict["source_file"] == str(seed_dir / SEED.name)
    assert as_dict["sha256"] == archive.value("SELECT sha256 FROM source_file")
    assert as_dict["secured"] == archive.value("SELECT secured FROM article WHERE is_stub = 0")
    assert list(as_dict)[:14] == [
        "id",
        "url",
        "title",
        "excerpt",
        "category",
        "type",
        "published_at",
        "quality",
        "heat",
        "published",
        "original_url",
        "amp_url",
        "cdn_amp_url",
        "is_stub",
    ]


def test_show_a_stub_names_the_file_that_named_it(archive, seed_dir):
    imported(archive, seed_dir)
    as_dict = rows(archive, "show", STAR_URL)
    assert as_dict["is_stub"] is True
    assert as_dict["provider"] == "The Star"
    assert as_dict["topics"] == []
    assert as_dict["images"] == [
        {"url": "https://apicms.thestar.com.my/uploads/images/2020/08/18/823669.jpg",
         "width": 1240, "height": 826}
    ]  # fmt: skip
    assert as_dict["linked_from"] == [{"url": SEED_URL, "provider": "Gothamist"}]
    assert as_dict["named_in_file"] == str(seed_dir / SEED.name)
    assert "source_file" not in as_dict


# --- stats -----------------------------------------------------------------------------


def test_stats_match_the_tables_and_the_schema_revision(sample):
    found = {r["metric"]: r["value"] for r in rows(sample, "stats")}
    from archive.store.models import TABLE_NAMES, SQLModel

    assert set(TABLE_NAMES) == set(SQLModel.metadata.tables), "stats must list every table"
    for table in TABLE_NAMES:
        assert found[f"rows in {table}"] == sample.count(table), table
    assert found["rows in article"] == 25
    assert found["articles with own record"] == 16
    assert found["articles known only from related entries"] == 9
    assert found["first published"] == "2019-10-08T11:00:00Z"
    assert found["last published"] == "2021-09-29T23:01:00Z"
    current = sample.run("db", "current")
    assert current.exit_code == 0, current.output
    assert found["schema revision"] == current.stdout.split()[0]
    assert found["schema revision"] == sample.value("SELECT version_num FROM alembic_version")
    size = os.path.getsize(sample.path) + (
        os.path.getsize(f"{sample.path}-wal") if os.path.exists(f"{sample.path}-wal") else 0
    )
    assert found["database size (MB)"] == round(size / 1e6, 2)


# --- a missing database ----------------------------------------------------------------

QUERY_COMMANDS = [
    ["providers"],
    ["topics"],
    ["articles"],
    ["search", "facial"],
    ["timeline"],
    ["cooccur", "--topic", "AI"],
    ["related", SEED_URL],
    ["show", SEED_URL],
    ["stats"],
    ["sql", "SELECT 1"],
    ["export", "article"],
]


@pytest.mark.parametrize("command", QUERY_COMMANDS, ids=lambda c: c[0])
def test_query_on_a_missing_database_creates_nothing(archive, tmp_path, command):
    before = sorted(os.listdir(tmp_path))
    result = archive.run(*command)
    assert one_error_line(result, exit_code=5).startswith(f"error: no archive at {archive.path}")
    assert not archive.path.exists()
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("command", QUERY_COMMANDS[:9], ids=lambda c: c[0])
def test_query_on_a_file_that_is_not_a_database_is_one_line(archive, command):
    archive.path.write_text("hello\n")
    line = one_error_line(archive.run(*command), ArchiveUnavailable.exit_code)
    assert line == f"error: {archive.path} is not an archive: it is not a SQLite database file"
    assert archive.path.read_text() == "hello\n"


def test_queries_keeps_true_copies_of_the_models_constants() -> None:
    """queries keeps its own copies so that it need not load SQLModel."""
    from archive.query import queries
    from archive.store import models

    assert queries.TABLE_NAMES == models.TABLE_NAMES
    assert queries.ISO_UTC_FORMAT == models.ISO_UTC_FORMAT
