"""Stories: copies of one text grouped at import, counted once (README: Stories)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import DATA, REAL, Archive, imported
from story_corpus import Corpus, write_corpus

from archive.stories import minhash, rules

PAIRS = Path(__file__).parent / "fixtures" / "story_pairs.jsonl"
TOPIC = "Power Apps"


def _features(item: dict) -> rules.Features:
    published = item["published_at"]
    at = dt.datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None
    return rules.features(item["title"], item["excerpt"], item["body"], at, [item["provider"]])


def _confusion() -> dict[str, int]:
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        a, b = _features(pair["a"]), _features(pair["b"])
        # As the importer finds it: only when the index brings the two together.
        said = rules.meet(a, b) and rules.decide(a, b).same
        counts[("t" if said == pair["same"] else "f") + ("p" if said else "n")] += 1
    return counts


def test_the_labelled_pairs_hold_precision_and_recall():
    """tests/fixtures/README_story_pairs says how the pairs were labelled."""
    counts = _confusion()
    positives, negatives = counts["tp"] + counts["fn"], counts["tn"] + counts["fp"]
    assert positives + negatives >= 300 and positives >= 100 and negatives >= 100
    precision = counts["tp"] / (counts["tp"] + counts["fp"])
    recall = counts["tp"] / positives
    assert precision >= 0.95, counts
    assert recall >= 0.90, counts


@pytest.fixture
def planted(tmp_path: Path) -> Corpus:
    return write_corpus(tmp_path / "corpus", originals=40, copies=30)


def _json(archive: Archive, *args: str) -> list[dict]:
    result = archive.run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _by_domain(rows: list[dict]) -> dict[str, dict]:
    return {row["domain"]: row for row in rows}


def _check_planted(archive: Archive, corpus: Corpus) -> None:
    plain = _by_domain(_json(archive, "providers", "--topic", TOPIC))
    stories = _by_domain(_json(archive, "providers", "--topic", TOPIC, "--by-story"))
    assert set(plain) == set(stories)
    for domain, row in plain.items():
        copies = corpus.copies.get(domain, 0)
        # A provider's articles are its first publications plus its planted copies.
        assert row["articles"] - stories[domain]["first"] == copies, domain
        assert stories[domain]["copies"] == copies, domain
        assert stories[domain]["stories"] == row["articles"], domain
    assert sum(r["first"] for r in stories.values()) == corpus.originals
    assert sum(r["articles"] for r in plain.values()) == corpus.originals + sum(
        corpus.copies.values()
    )


def test_by_story_differs_from_the_plain_count_by_the_planted_copies(archive, planted):
    imported(archive, planted.folder)
    _check_planted(archive, planted)


def test_copies_imported_later_join_the_stories_already_there(archive, tmp_path, planted):
    """Incremental: the copies arrive in a second import (in small commits), and are
    found through the stored band keys."""
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for path in planted.folder.iterdir():
        path.rename((first if path.name.startswith("original") else later) / path.name)
    imported(archive, first)
    assert archive.value("SELECT max(articles) FROM story") == 1
    result = archive.run("import", "--commit-every", "7", str(later))
    assert result.exit_code == 0, result.output
    _check_planted(archive, planted)


def test_topics_timeline_and_cooccur_count_each_story_once(archive, planted):
    imported(archive, planted.folder)
    (topic,) = _json(archive, "topics", "--by-story")
    assert (topic["name"], topic["stories"]) == (TOPIC, planted.originals)
    (plain,) = _json(archive, "topics")
    assert plain["articles"] == planted.originals + sum(planted.copies.values())
    periods = _json(archive, "timeline", "--topic", TOPIC, "--by", "year", "--by-story")
    assert [(p["period"], p["stories"]) for p in periods] == [("2021", planted.originals)]
    assert _json(archive, "cooccur", "--topic", TOPIC, "--by-story") == []


def test_the_real_sample_has_no_story_of_two(archive):
    """The real records and data/ hold no copies: every article is a story of its own
    (the look-alike release-wave videos stay apart)."""
    imported(archive, REAL, DATA)
    own = archive.value("SELECT count(*) FROM article WHERE is_stub = 0")
    assert archive.count("article_story") == own == archive.count("story")
    assert archive.value("SELECT max(articles) FROM story") == 1
    assert _json(archive, "stories") == []


def test_a_changed_record_leaves_its_story(archive, planted):
    imported(archive, planted.folder)
    copy = planted.folder / "copy-00000.md"
    # The story of the original release: its copies, as article ids.
    story_of_original = (
        "SELECT m.article_id FROM article_story s JOIN article a ON a.id = s.article_id"
        " JOIN article_story m ON m.story_id = s.story_id"
        " WHERE a.url = 'https://benzinga.com/news/0' OR a.url LIKE '%/news/0'"
    )
    copy_id = archive.value("SELECT article_id FROM source_file WHERE path LIKE '%copy-00000.md'")
    before = {i for (i,) in archive.rows(story_of_original)}
    assert copy_id in before
    text = copy.read_text(encoding="utf-8").split("---")
    text[1] = text[1].replace("Re-transmission: Company0", "Another event entirely, Company0")
    text[2] = "\nNothing of this text is in the original release at all, not one word.\n"
    copy.write_text("---".join(text), encoding="utf-8")
    imported(archive, copy)
    # It leaves; the rest of the story is assigned again and stays one story.
    assert {i for (i,) in archive.rows(story_of_original)} == before - {copy_id}
    assert archive.value("SELECT count(*) FROM story WHERE articles = 0") == 0
    assert archive.value("SELECT sum(articles) FROM story") == archive.count("article_story")
    # Its index rows went with it: story_band has no article_id index, so they are
    # found from its stored features, and none of the old text's keys stays behind.
    assert _stale_index_rows(archive) == []


def _stale_index_rows(archive: Archive) -> list[tuple[int, int]]:
    """story_band rows that are not under a key of their article's stored features."""
    current = {
        (key, article_id)
        for article_id, title_key, signature in archive.rows(
            "SELECT article_id, title_key, signature FROM article_story"
        )
        for key, _band in rules.index_keys(
            rules.Features(title_key, minhash.from_bytes(signature), 0, None)
        )
    }
    rows = archive.rows("SELECT key, article_id FROM story_band")
    assert rows
    return [row for row in rows if tuple(row) not in current]


def test_show_lists_the_other_copies_and_explain_says_why(archive, planted):
    imported(archive, planted.folder)
    copy_url = archive.value(
        "SELECT a.url FROM article a JOIN article_story s ON s.article_id = a.id"
        " JOIN story ON story.id = s.story_id"
        " WHERE story.articles > 1 AND story.origin_article_id != a.id ORDER BY a.id LIMIT 1"
    )
    origin_url = archive.value(
        "SELECT o.url FROM article a JOIN article_story s ON s.article_id = a.id"
        " JOIN story ON story.id = s.story_id JOIN article o ON o.id = story.origin_article_id"
        " WHERE a.url = ?",
        copy_url,
    )
    copies = _json(archive, "show", copy_url)["copies"]
    assert {"url": origin_url, "first": True} in [
        {"url": c["url"], "first": c["first"]} for c in copies
    ]
    assert all(c["url"] != copy_url for c in copies)
    shown = archive.run("show", copy_url, "--format", "csv").output
    assert f'copy_first,"{origin_url} (' in shown  # quoted: the value has a comma
    why = {
        r["field"]: r["value"] for r in _json(archive, "stories", "--explain", copy_url, origin_url)
    }
    assert why["rule"].startswith("same story: ") and why["same_story_in_archive"] is True
    other = archive.value(
        "SELECT a.url FROM article a JOIN article_story s ON s.article_id = a.id"
        " WHERE s.story_id != (SELECT story_id FROM article_story s2 JOIN article a2"
        " ON a2.id = s2.article_id WHERE a2.url = ?) LIMIT 1",
        copy_url,
    )
    why = {r["field"]: r["value"] for r in _json(archive, "stories", "--explain", copy_url, other)}
    assert why["rule"].startswith("not the same: ") and why["same_story_in_archive"] is False


def test_stories_lists_the_largest_with_first_publication(archive, planted):
    imported(archive, planted.folder)
    rows = _json(archive, "stories")
    sizes = [r["articles"] for r in rows]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) == 2
    assert sum(s - 1 for s in sizes) == sum(planted.copies.values())
    top = rows[0]
    assert top["first_provider"] in top["provider_names"]


def test_no_stories_then_missing_then_rebuild(archive, planted):
    result = archive.run("import", "--no-stories", str(planted.folder))
    assert result.exit_code == 0, result.output
    assert archive.count("article_story") == 0
    # Without stories every article counts as one: --by-story equals the plain count.
    plain = _by_domain(_json(archive, "providers", "--topic", TOPIC))
    stories = _by_domain(_json(archive, "providers", "--topic", TOPIC, "--by-story"))
    assert {d: r["articles"] for d, r in plain.items()} == {
        d: r["first"] for d, r in stories.items()
    }
    listed = archive.run("stories")
    assert "have no story yet" in listed.stderr
    assert archive.run("stories", "--missing").exit_code == 0
    _check_planted(archive, planted)
    partition = sorted(archive.rows("SELECT story_id, article_id FROM article_story"))
    rebuilt = archive.run("stories", "--rebuild")
    assert rebuilt.exit_code == 0 and "assigned 70 articles" in rebuilt.stderr
    assert sorted(archive.rows("SELECT story_id, article_id FROM article_story")) == partition
    _check_planted(archive, planted)


def test_by_story_refuses_include_related(archive, planted):
    imported(archive, planted.folder)
    result = archive.run("providers", "--topic", TOPIC, "--by-story", "--include-related")
    assert result.exit_code != 0 and "--include-related" in result.output


def test_postgres_gives_the_same_answers(pg_archive, archive, planted):
    for each in (pg_archive, archive):
        imported(each, planted.folder)
    for args in (
        ["providers", "--topic", TOPIC, "--by-story"],
        ["topics", "--by-story"],
        ["timeline", "--topic", TOPIC, "--by-story"],
        ["stories"],
    ):
        assert _json(pg_archive, *args) == _json(archive, *args), args
    _check_planted(pg_archive, planted)


def test_serve_answers_by_story_as_the_cli(archive, planted):
    from test_serve import as_the_cli_prints, fetch_json

    from archive.serve import server

    imported(archive, planted.folder)
    datasette = server.datasette_for(archive.path)
    try:
        name = archive.path.stem
        found = fetch_json(
            datasette, f"/{name}/providers_for_topic_by_story.json?_shape=array&topic=power+apps"
        )
        expected = _json(archive, "providers", "--topic", TOPIC, "--by-story")
        columns = ("domain", "stories", "first", "copies")
        assert [tuple(r[c] for c in columns) for r in found] == [
            tuple(r[c] for c in columns) for r in expected
        ]
        largest = fetch_json(datasette, f"/{name}/largest_stories.json?_shape=array")
        # One statement for both (serve/queries.py): every column, in the same order.
        assert len(largest) > 1
        assert as_the_cli_prints(largest) == _json(archive, "stories")
        url = largest[0]["url"]
        copies = fetch_json(datasette, f"/{name}/copies_of_url.json?_shape=array&url={url}")
        assert len(copies) == largest[0]["articles"] - 1
    finally:
        for database in datasette.databases.values():
            database.close()


def test_0010_makes_story_band_one_btree_and_stories_missing_groups_again(archive, planted):
    """0010 changed the band keys: it forgets the stories, and `stories --missing`
    makes the same ones again."""
    imported(archive, planted.folder)
    groups = _groups(archive)
    table_sql = "SELECT sql FROM sqlite_master WHERE name = 'story_band'"
    assert "WITHOUT ROWID" in archive.value(table_sql)
    assert archive.run("db", "downgrade", "0009").exit_code == 0
    assert "WITHOUT ROWID" not in archive.value(table_sql)
    upgraded = archive.run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "WITHOUT ROWID" in archive.value(table_sql)
    assert archive.count("article_story") == archive.count("story_band") == 0
    assert archive.run("stories", "--missing").exit_code == 0
    assert _groups(archive) == groups
    _check_planted(archive, planted)


def _groups(archive: Archive) -> set[frozenset[int]]:
    stories: dict[int, set[int]] = {}
    for story, article in archive.rows("SELECT story_id, article_id FROM article_story"):
        stories.setdefault(story, set()).add(article)
    return {frozenset(members) for members in stories.values()}


def _record(path: Path, url: str, title: str, provider: str) -> None:
    path.write_text(
        f'---\ntitle: "{title}"\nexcerpt: "The mayor opened the harbour bridge on Monday."\n'
        f"publishedDateTime: 2021-05-01T09:30:00Z\nwebUrl: {url}\ntype: article\n"
        f"provider:\n  name: {provider}\n  domain: dailyplanet.example\n---\n",
        encoding="utf-8",
    )


def test_features_follow_the_archives_provider_names_not_the_records(archive, tmp_path):
    """Parser processes make each record's features with the provider names the record
    gives; the archive keeps the first record's, and a title ending in that name loses
    it, as `stories --rebuild` (which reads the archive's names) makes it."""
    folder = tmp_path / "records"
    folder.mkdir()
    _record(folder / "a.md", "https://dailyplanet.example/1", "Harbour news", "Daily Planet")
    title = "Mayor opens the new harbour bridge in the city - Daily Planet"
    _record(folder / "b.md", "https://dailyplanet.example/2", title, "The Planet Daily")
    imported(archive, folder)
    assert archive.value("SELECT count(*) FROM provider") == 1
    query = "SELECT title_key FROM article_story s JOIN article a ON a.id = s.article_id"
    keys = archive.rows(f"{query} WHERE a.url LIKE '%/2'")
    assert keys == [("mayor opens the new harbour bridge in the city",)]
    assert archive.run("stories", "--rebuild").exit_code == 0
    assert archive.rows(f"{query} WHERE a.url LIKE '%/2'") == keys
