"""`archive dump D && archive --db new.db import D` rebuilds the archive: every query
command answers the same (ids, import times and file paths aside), on the real
sample, on the real git history, and on a generated corpus of overlapping folders
that change over time (copies, clashes, an address changed in place).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import REAL, ROOT, Archive, record, write

BUNDLE = ROOT / "tests" / "fixtures" / "real-history" / "microsoft-power-apps-news-150.bundle"
# Lines of `show` that say where and when a record came in, not what it says.
_PROVENANCE = ("id,", "source_file,", "named in file,", "imported_at,", "also_in_file,")


def _out(archive: Archive, *args: str) -> str:
    result = archive.run(*args)
    assert result.exit_code in (0, 7), (args, result.output)  # 7: an empty answer
    return result.stdout


def answers(archive: Archive) -> dict[str, object]:
    """What every query command says about the archive."""
    found: dict[str, object] = {}
    listed = json.loads(_out(archive, "articles", "--format", "json", "--limit", "100000"))
    # Articles published at the same instant come in id order, and ids are not kept.
    found["articles"] = sorted(json.dumps(a, sort_keys=True) for a in listed)
    found["providers"] = _out(archive, "providers", "--format", "csv")
    found["topics"] = _out(archive, "topics", "--format", "csv")
    found["timeline"] = _out(archive, "timeline", "--by", "day", "--format", "csv")
    topics = [row.split(",")[0] for row in found["topics"].splitlines()[1:4]]  # type: ignore[union-attr]
    for topic in topics:
        found[f"cooccur {topic}"] = _out(archive, "cooccur", "--topic", topic, "--format", "csv")
    # Matches of equal relevance come in id order, and ids are not kept: compare the
    # matches (and snippets) without their places.
    search = _out(archive, "search", "power OR news OR data", "--format", "csv")
    found["search"] = sorted(line.partition(",")[2] for line in search.splitlines())
    urls = [a["url"] for a in listed]
    for url in urls:
        shown = _out(archive, "show", url, "--format", "csv")
        found[f"show {url}"] = [
            line for line in shown.splitlines() if not line.startswith(_PROVENANCE)
        ]
        found[f"related {url}"] = _out(archive, "related", url, "--format", "csv")
    stats = _out(archive, "stats", "--format", "csv").splitlines()
    found["stats"] = [
        line for line in stats
        if line.split(",")[0] in {f"rows in {t}" for t in
                                  ("article", "provider", "topic", "image", "article_topic",
                                   "article_image", "related_link")}
    ]  # fmt: skip
    assert len(urls) > 0
    return found


def rebuilt(archive: Archive, tmp_path: Path) -> Archive:
    out = tmp_path / "dumped"
    result = archive.run("dump", str(out))
    assert result.exit_code == 0, result.output
    copy = Archive(tmp_path / "rebuilt.db")
    again = copy.run("import", str(out))
    assert again.exit_code == 0, again.output
    return copy


def test_the_real_sample_rebuilds(archive, tmp_path):
    assert archive.run("import", str(REAL)).exit_code == 0
    assert answers(rebuilt(archive, tmp_path)) == answers(archive)


def test_the_real_history_rebuilds(archive, tmp_path):
    result = archive.run("import", "--git", str(BUNDLE), "--git-path", "_news")
    assert result.exit_code == 0, result.output
    copy = rebuilt(archive, tmp_path)
    assert answers(copy) == answers(archive)
    assert copy.count("source_file") == archive.value(
        "SELECT count(DISTINCT rel_path) FROM source_file"
    )


def _corpus(root: Path, rng: random.Random, rounds: int) -> list[list[Path]]:
    """Folders that overlap (the same articles in several), each imported after
    edits: copies, clashes of one article in many files, addresses changed in place."""
    folders = [root / name for name in ("site-a", "site-b", "site-a-mirror")]
    plan: list[list[Path]] = []
    for round_ in range(rounds):
        for folder in folders:
            for index in range(6):
                article = rng.randrange(8)
                moved = "-moved" if rng.random() < 0.15 else ""
                text = record(
                    f"https://example.com/{article}{moved}",
                    title=f'"{folder.name} {round_} {index}"',
                    topics=f"[T{article % 3}, T{rng.randrange(3)}]",
                    publishedDateTime=f"2020-0{1 + article % 9}-0{1 + index}T00:00:00Z",
                )
                write(folder, f"sub{index % 2}/n{index}.md", text)
            if rng.random() < 0.5:  # a byte copy at a new path
                source = folder / "sub0" / "n0.md"
                write(folder, f"copy-{round_}.md", source.read_bytes())
        plan.append(list(folders))
    return plan


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_corpus_of_overlapping_folders_rebuilds(archive, tmp_path, seed):
    rng = random.Random(seed)
    root = tmp_path / "corpus"
    for round_ in range(3):
        _corpus(root / str(round_), rng, 1)
        for folder in sorted((root / str(round_)).iterdir()):
            assert archive.run("import", str(folder)).exit_code == 0
        # The same folder names again, edited: new versions of the same files.
    for folder in sorted((root / "0").iterdir()):
        for path in folder.rglob("*.md"):
            path.write_text(path.read_text().replace("title:", "title: edited"))
        assert archive.run("import", str(folder)).exit_code == 0
    assert answers(rebuilt(archive, tmp_path)) == answers(archive)


def test_dumped_files_follow_the_umask_and_a_failure_leaves_no_folder(archive, tmp_path):
    assert archive.run("import", str(REAL)).exit_code == 0
    previous = os.umask(0o027)
    try:
        out = tmp_path / "out"
        assert archive.run("dump", str(out)).exit_code == 0
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert modes == {0o640}
    assert stat.S_IMODE(out.stat().st_mode) == 0o750

    # A row without text is a note, not a crash; nothing half-written is left behind.
    with sqlite3.connect(archive.path) as connection:
        connection.execute("UPDATE source_file SET text = NULL WHERE id = 1")
    second = tmp_path / "second"
    result = archive.run("dump", str(second))
    assert result.exit_code == 0, result.output
    assert "1 files have no stored text" in result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".archive-dump")] == []


def test_dump_refuses_a_target_that_is_not_a_regular_file(archive, tmp_path):
    assert archive.run("import", str(REAL)).exit_code == 0
    out = tmp_path / "out"
    first = sorted(p.name for p in REAL.glob("*.md"))[0]
    fifo = out / REAL.name / first
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    result = archive.run("dump", "--force", str(out))
    assert result.exit_code == 6, result.output
    assert "FIFO" in result.output and "only regular files" in result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".archive-dump")] == []


def test_all_versions_replay_every_version_and_deletion(archive, tmp_path):
    from test_git_import import _commit, _repository

    repo = _repository(tmp_path)
    write(repo, "a.md", record("https://example.com/a", title='"v1"', topics="[T]"))
    write(repo, "b.md", record("https://example.com/b", title='"B"', topics="[U]"))
    _commit(repo, "2020-01-01T10:00:00+00:00")
    write(repo, "a.md", record("https://example.com/a2", title='"v2"', topics="[T]"))
    (repo / "b.md").unlink()
    _commit(repo, "2020-01-02T10:00:00+00:00")
    assert archive.run("import", "--git", str(repo)).exit_code == 0
    assert archive.run("import", "--git", str(BUNDLE), "--git-path", "_news").exit_code == 0

    out = tmp_path / "every"
    assert archive.run("dump", "--all-versions", str(out)).exit_code == 0
    copy = Archive(tmp_path / "replayed.db")
    assert copy.run("import", str(out)).exit_code == 0
    assert answers(copy) == answers(archive)
    assert copy.count("source_file") == archive.count("source_file")
    assert copy.rows("SELECT count(*) FROM article WHERE removed_at IS NOT NULL") == [(1,)]
    # Versions of one file stay one file's versions.
    assert copy.rows("SELECT count(DISTINCT rel_path) FROM source_file") == archive.rows(
        "SELECT count(DISTINCT rel_path) FROM source_file"
    )
    for url in ("https://example.com/a", "https://youtube.com/watch?v=WJk-Y8LQlfE"):
        mine = archive.run("history", url, "--format", "json").stdout
        theirs = copy.run("history", url, "--format", "json").stdout
        assert [v["changed"] for v in json.loads(theirs)] == [
            v["changed"] for v in json.loads(mine)
        ]


def test_a_dump_that_fails_half_way_leaves_no_folder(archive, tmp_path, monkeypatch):
    from archive.query import dump as dump_module

    assert archive.run("import", str(REAL)).exit_code == 0
    calls = []
    real_write = dump_module._write

    def failing_write(destination, text):
        calls.append(destination)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        real_write(destination, text)

    monkeypatch.setattr(dump_module, "_write", failing_write)
    out = tmp_path / "out"
    result = archive.run("dump", str(out))
    assert result.exit_code == 6, result.output
    assert "No space left on device" in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".archive-dump")] == []
