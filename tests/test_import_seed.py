"""The seed record through the real CLI into a real database."""

from __future__ import annotations

from conftest import SEED, imported


def test_seed_imports_into_the_expected_rows(archive, seed_dir):
    result = archive.run("import", str(seed_dir))
    assert result.exit_code == 0, result.output
    assert archive.count("article") == 5
    assert archive.rows("SELECT is_stub, count(*) FROM article GROUP BY is_stub") == [
        (0, 1),
        (1, 4),
    ]
    assert archive.count("provider") == 5
    assert archive.count("topic") == 2
    assert archive.count("image") == 5
    assert archive.count("related_link") == 4
    assert "1 seen, 1 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert "5 articles, 5 providers, 2 topics, 5 images" in result.output


def test_seed_fields_land_in_columns(archive, seed_dir):
    imported(archive, seed_dir)
    row = archive.rows(
        "SELECT a.title, a.category, a.type, a.quality, a.heat, a.published, a.published_at,"
        " a.amp_url IS NOT NULL, a.cdn_amp_url IS NOT NULL, p.name, p.domain, a.secured"
        " FROM article a JOIN provider p ON p.id = a.provider_id WHERE a.is_stub = 0"
    )[0]
    assert row[:10] == (
        "De Blasio Will Reassess NYPD's Use Of Facial Recognition Tech After Protester Arrest",
        "news", "article", 52, -1, 0, "2020-08-17T18:08:00Z", 1, 1, "Gothamist",
    )  # fmt: skip
    assert row[10] == "gothamist.com"
    assert row[11].startswith("wwnbGw2NEaAqVZjkNLN7") and row[11].endswith(
        "4odTwv7bov/ZzWYcPemb3Q=="
    )
    topics = archive.rows(
        "SELECT t.name FROM article_topic at JOIN topic t ON t.id = at.topic_id ORDER BY at.position"
    )
    assert topics == [("Computer Vision",), ("AI",)]


def test_related_links_keep_order_and_point_at_stubs_with_their_providers(archive, seed_dir):
    imported(archive, seed_dir)
    linked = archive.rows(
        "SELECT r.position, p.name, a.quality, a.is_stub FROM related_link r"
        " JOIN article a ON a.id = r.related_article_id JOIN provider p ON p.id = a.provider_id"
        " ORDER BY r.position"
    )
    assert linked == [
        (0, "Newsweek", 88, 1),
        (1, "NBC 6 South Florida", 59, 1),
        (2, "New York Post", 57, 1),
        (3, "The Star", 39, 1),
    ]
    # Each stub keeps its own image.
    assert archive.rows(
        "SELECT count(*) FROM article a JOIN article_image ai ON ai.article_id = a.id WHERE a.is_stub = 1"
    ) == [(4,)]


def test_reimport_changes_nothing(archive, seed_dir):
    imported(archive, seed_dir)
    before = archive.snapshot()
    result = archive.run("import", str(seed_dir))
    assert result.exit_code == 0
    assert "1 seen, 0 new, 0 updated, 1 unchanged, 0 rejected" in result.output
    assert archive.snapshot() == before


def test_every_article_traces_to_its_file(archive, seed_dir):
    imported(archive, seed_dir)
    paths = archive.rows(
        "SELECT DISTINCT s.path FROM article a JOIN source_file s ON s.id = a.source_file_id"
    )
    assert paths == [(str(seed_dir / SEED.name),)]
    stored = archive.value("SELECT text FROM source_file")
    assert stored == SEED.read_text(encoding="utf-8")
