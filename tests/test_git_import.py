"""`archive import --git`: a repository's history as versions of its files.

On the real history (tests/fixtures/real-history, 150 commits of a real site) and on
small repositories made here: edits, an address changed in place, a deletion, a
second run, bare repositories and bundles.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, record, write

BUNDLE = ROOT / "tests" / "fixtures" / "real-history" / "microsoft-power-apps-news-150.bundle"


def git(repo: Path, *args: str, when: str | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=True, env=env
    )
    return result.stdout.decode()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """The real history, cloned (git show reads it)."""
    clone = tmp_path_factory.mktemp("history") / "pa"
    subprocess.run(["git", "clone", "-q", "--bare", str(BUNDLE), str(clone)], check=True)
    return clone


def test_the_real_history_shows_each_file_as_at_the_last_commit(archive, history):
    result = archive.run("import", "--git", str(BUNDLE), "--git-path", "_news")
    assert result.exit_code == 0, result.output
    assert "git: 150 commits" in result.output
    at_head = [
        p for p in git(history, "ls-tree", "-r", "--name-only", "HEAD").split("\n")
        if p.endswith(".md")
    ]  # fmt: skip
    assert len(at_head) == 58
    shown = dict(
        archive.rows(
            "SELECT s.rel_path, s.text FROM article a JOIN source_file s"
            " ON s.id = a.source_file_id WHERE NOT a.is_stub"
        )
    )
    assert archive.count("article") == len(shown) == len(at_head)
    for path in at_head:
        assert shown[path] == git(history, "show", f"HEAD:{path}"), path
    # Every version git has of each file, one row each.
    for path in at_head:
        commits = git(history, "log", "--first-parent", "--format=%H", "--", path).split()
        rows = archive.rows(
            "SELECT commit_id FROM source_file WHERE rel_path = ? ORDER BY id DESC", path
        )
        assert [c for (c,) in rows] == commits, path

    before = archive.snapshot()
    again = archive.run("import", "--git", str(BUNDLE), "--git-path", "_news")
    assert again.exit_code == 0 and "no new commits" in again.output, again.output
    assert archive.snapshot() == before


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def _commit(repo: Path, when: str, message: str = "Update news") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, when=when)


def test_edits_an_address_change_and_a_deletion(archive, tmp_path):
    repo = _repository(tmp_path)
    write(repo / "_news", "a.md", record("https://example.com/a", title='"v1"', topics="[T]"))
    write(repo / "_news", "b.md", record("https://example.com/b", title='"B"'))
    write(repo, "README.md", "not a record: outside --git-path\n")
    _commit(repo, "2020-01-01T10:00:00+00:00")
    write(repo / "_news", "a.md", record("https://example.com/a2", title='"v2"', topics="[T]"))
    _commit(repo, "2020-01-02T10:00:00+00:00")
    (repo / "_news" / "b.md").unlink()
    _commit(repo, "2020-01-03T10:00:00-07:00")

    result = archive.run("import", "--git", str(repo), "--git-path", "_news")
    assert result.exit_code == 0, result.output
    assert "3 seen, 2 new, 1 updated" in result.output
    assert "git: 3 commits\nremoved: 1 deleted files" in result.output
    # The address changed in place: one article, found by both addresses.
    assert archive.rows("SELECT url, title, removed_at FROM article ORDER BY id") == [
        ("https://example.com/a2", "v2", None),
        ("https://example.com/b", "B", "2020-01-03T17:00:00Z"),
    ]
    assert archive.rows("SELECT count(*) FROM article_topic") == [(1,)]
    assert "v2" in archive.run("show", "https://example.com/a").output
    assert archive.rows(
        "SELECT rel_path, committed_at, removed_at FROM source_file ORDER BY id"
    ) == [
        ("_news/a.md", "2020-01-01T10:00:00Z", None),
        ("_news/b.md", "2020-01-01T10:00:00Z", "2020-01-03T17:00:00Z"),
        ("_news/a.md", "2020-01-02T10:00:00Z", None),
    ]

    # A second run reads only the new commit; a file added back is no longer removed.
    write(repo / "_news", "b.md", record("https://example.com/b", title='"B again"'))
    _commit(repo, "2020-01-04T10:00:00+00:00")
    again = archive.run("import", "--git", str(repo), "--git-path", "_news")
    assert "1 seen, 0 new, 1 updated" in again.output, again.output
    assert archive.rows("SELECT title, removed_at FROM article WHERE url LIKE '%/b'") == [
        ("B again", None)
    ]


def test_a_bare_repository_and_a_bundle_import_alike(archive, tmp_path):
    repo = _repository(tmp_path)
    write(repo, "x.md", record("https://example.com/x", title='"X"'))
    _commit(repo, "2020-01-01T10:00:00+00:00")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    bundle = tmp_path / "x.bundle"
    git(repo, "bundle", "create", str(bundle), "main")
    for source, name in ((bare, "bare"), (bundle, "x")):
        result = archive.run("import", "--git", str(source))
        assert "1 seen, 1 new" in result.output or "1 seen, 0 new, 1 updated" in result.output
        assert archive.rows(
            "SELECT count(*) FROM source_file s JOIN collection c ON c.id = s.collection_id"
            " WHERE c.name = ? AND c.kind = 'git'",
            name,
        ) == [(1,)]


def test_not_a_repository_is_one_line(archive, tmp_path):
    result = archive.run("import", "--git", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "not a git repository" in result.output


def test_history_lists_every_version_git_has_newest_first(archive, history):
    assert archive.run("import", "--git", str(BUNDLE), "--git-path", "_news").exit_code == 0
    path, url = archive.rows(
        "SELECT s.rel_path, a.url FROM article a JOIN source_file s ON s.id = a.source_file_id"
        " WHERE a.url LIKE '%WJk-Y8LQlfE'"
    )[0]
    commits = git(history, "log", "--first-parent", "--format=%H %cI", "--", path).split("\n")
    commits = [line.split()[0] for line in commits if line]
    shown = archive.run("history", url, "--format", "json")
    assert shown.exit_code == 0, shown.output
    versions = __import__("json").loads(shown.stdout)
    assert [v["commit"] for v in versions] == commits
    assert versions[-1]["status"] == "new" and "title" in versions[-1]["changed"]
    assert [v["time"] for v in versions] == sorted((v["time"] for v in versions), reverse=True)
    signature_only = [v for v in versions if v["changed"] == "secured"]
    assert signature_only, "the real history re-signs records"
    hidden = __import__("json").loads(
        archive.run("history", url, "--hide-signature", "--format", "json").stdout
    )
    assert len(hidden) == len(versions) - len(signature_only)
    titles = __import__("json").loads(
        archive.run("history", url, "--fields", "title", "--format", "json").stdout
    )
    assert [v["changed"] for v in titles] == ["title"] * len(titles) and titles
    for form in ("csv", "tsv", "jsonl", "table"):
        assert archive.run("history", url, "--format", form).exit_code == 0


def test_history_shows_an_address_change_and_a_removal(archive, tmp_path):
    repo = _repository(tmp_path)
    write(repo, "a.md", record("https://example.com/a", title='"v1"'))
    _commit(repo, "2020-01-01T10:00:00+00:00")
    write(repo, "a.md", record("https://example.com/a2", title='"v1"'))
    _commit(repo, "2020-01-02T10:00:00+00:00")
    (repo / "a.md").unlink()
    _commit(repo, "2020-01-03T10:00:00+00:00")
    assert archive.run("import", "--git", str(repo)).exit_code == 0
    shown = archive.run("history", "https://example.com/a", "--format", "csv")
    lines = shown.stdout.splitlines()
    assert lines[0] == "time,status,path,commit,changed"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["2020-01-03T10:00:00Z", "removed", "site/a.md"],
        ["2020-01-02T10:00:00Z", "updated", "site/a.md"],
        ["2020-01-01T10:00:00Z", "new", "site/a.md"],
    ]
    assert lines[2].endswith(",webUrl")


def test_a_removed_article_leaves_the_answers_and_include_removed_shows_it(archive, tmp_path):
    repo = _repository(tmp_path)
    write(repo, "a.md", record("https://example.com/a", title='"Kept"', topics="[Gone]",
                               publishedDateTime="2020-01-01"))  # fmt: skip
    write(repo, "b.md", record("https://example.com/b", title='"Stays"', topics="[Here]",
                               publishedDateTime="2020-03-01"))  # fmt: skip
    _commit(repo, "2020-01-01T10:00:00+00:00")
    (repo / "a.md").unlink()
    _commit(repo, "2020-01-02T10:00:00+00:00")
    assert archive.run("import", "--git", str(repo)).exit_code == 0
    assert archive.count("article") == 2  # kept
    listed = archive.run("articles", "--format", "csv").stdout
    assert "Stays" in listed and "Kept" not in listed
    assert "Kept" in archive.run("articles", "--include-removed", "--format", "csv").stdout
    assert "Gone" not in archive.run("topics", "--format", "csv").stdout
    assert archive.run("search", "Kept", "--format", "csv").stdout.count("\n") <= 1
    timeline = archive.run("timeline", "--format", "csv").stdout
    assert "2020-03" in timeline and "2020-01" not in timeline
    assert "removed" in archive.run("history", "https://example.com/a").stdout
