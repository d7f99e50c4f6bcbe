"""Revision 0005 carries an archive made at 0004 forward with nothing lost.

The 0004 archive is built in the test: the records that version accepted (a
webUrl each) imported, then the schema taken down to 0004, which is what that
version wrote (0005's columns gone, source_file.error back). Upgrading must give
back, row for row, what importing the same files at the newest revision gives.
"""

from __future__ import annotations

import shutil
import sqlite3
import unicodedata
from pathlib import Path

import yaml
from conftest import DATA, REAL, Archive, write


def _old_records(folder: Path) -> Path:
    """data/ and the real sample, without the records 0004 rejected (no webUrl)."""
    for source in [*DATA.iterdir(), *REAL.glob("*.md")]:
        if source.name == "README":
            continue
        text = source.read_text(encoding="utf-8-sig")
        front = text.split("---", 2)[1] if text.startswith("---") else text
        if (yaml.safe_load(front) or {}).get("webUrl"):
            shutil.copy(source, folder / source.name)
    return folder


def _columns(archive: Archive, table: str) -> list[str]:
    return [row[1] for row in archive.rows(f"PRAGMA table_info({table})")]


def test_upgrading_a_0004_archive_gives_what_importing_at_head_gives(archive, records) -> None:
    # A related entry that 0004 took (it has a webUrl) names a stub with 0005's fields.
    write(
        records,
        "zz_related_video.md",
        "---\nwebUrl: https://example.com/zz\nrelated:\n"
        "  - webUrl: https://example.com/zz-video\n"
        "    originalUrl: https://youtu.be/EXAMPLEvid9\n"
        "    featuredContent: <iframe></iframe>\n---\n",
    )
    assert archive.run("import", str(_old_records(records))).exit_code == 0
    assert archive.rows("SELECT original_url FROM article WHERE url LIKE '%zz-video'") == [
        ("https://youtu.be/EXAMPLEvid9",)
    ]
    # File identities (0007) did not exist at 0004: compare at 0006.
    assert archive.run("db", "downgrade", "0006").exit_code == 0
    at_head = archive.snapshot()
    assert archive.rows("SELECT count(*) FROM provider WHERE extra IS NOT NULL") != [(0,)]
    assert archive.rows("SELECT count(*) FROM source_file WHERE article_id IS NULL") == [(0,)]

    down = archive.run("db", "downgrade", "0004")
    assert down.exit_code == 0, down.output
    assert "error" in _columns(archive, "source_file")
    assert "original_url" not in _columns(archive, "article")
    assert "extra" not in _columns(archive, "provider")

    up = archive.run("db", "upgrade", "0006")
    assert up.exit_code == 0, up.output
    assert archive.snapshot() == at_head
    assert archive.run("db", "upgrade").exit_code == 0
    assert archive.rows("PRAGMA foreign_key_check") == []
    assert archive.rows("PRAGMA integrity_check") == [("ok",)]


def test_names_that_read_the_same_merge_on_upgrade(archive, records) -> None:
    """At 0004, a precomposed é and e + combining accent were two topics (and two
    providers known by name); 0005 keeps the first and moves the links to it."""
    composed, decomposed = "Café", unicodedata.normalize("NFD", "Café")
    for name, topic, provider in (("a.md", composed, composed), ("b.md", decomposed, decomposed)):
        write(
            records,
            name,
            "---\n"
            + yaml.safe_dump(
                {
                    "webUrl": f"https://example.com/{name}",
                    "topics": [topic, "Other"],
                    "provider": {"name": provider},
                },
                allow_unicode=True,
            )
            + "---\n",
        )
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.run("db", "downgrade", "0004").exit_code == 0
    # Make it what 0004 wrote: a topic and a provider per spelling, keys only case-folded.
    connection = sqlite3.connect(archive.path)
    with connection:
        connection.execute(
            "INSERT INTO topic (key, name) VALUES (?, ?)", (decomposed.casefold(), decomposed)
        )
        connection.execute(
            "INSERT INTO provider (key, name) VALUES (?, ?)",
            ("name:" + decomposed.casefold(), decomposed),
        )
        b = connection.execute("SELECT id FROM article WHERE url LIKE '%b.md'").fetchone()[0]
        connection.execute(
            "UPDATE article_topic SET topic_id = (SELECT max(id) FROM topic) WHERE article_id = ?"
            " AND topic_id = (SELECT id FROM topic WHERE name = ?)",
            (b, composed),
        )
        connection.execute(
            "UPDATE article SET provider_id = (SELECT max(id) FROM provider) WHERE id = ?", (b,)
        )
        connection.execute(
            "UPDATE article_topic SET provider_id = (SELECT max(id) FROM provider) WHERE article_id = ?",
            (b,),
        )
    connection.close()
    assert archive.count("topic") == 3 and archive.count("provider") == 2

    assert archive.run("db", "upgrade").exit_code == 0
    assert archive.rows("SELECT name FROM topic ORDER BY id") == [(composed,), ("Other",)]
    assert archive.rows("SELECT name FROM provider") == [(composed,)]
    assert archive.rows(
        "SELECT a.url, t.name, at.provider_id = a.provider_id FROM article_topic at"
        " JOIN topic t ON t.id = at.topic_id JOIN article a ON a.id = at.article_id"
        " ORDER BY a.url, at.position"
    ) == [
        ("https://example.com/a.md", composed, 1),
        ("https://example.com/a.md", "Other", 1),
        ("https://example.com/b.md", composed, 1),
        ("https://example.com/b.md", "Other", 1),
    ]
    result = archive.run("providers", "--topic", decomposed, "--format", "csv")
    assert result.output.splitlines()[1].startswith(f"{composed},,2,"), result.output
