"""A git repository's history as import reads it: the first-parent commits of HEAD,
oldest first, each with the record files it changed and the ones it deleted.

It runs the git command rather than a library: git is there wherever a repository
is, `git log --raw -z` lists a whole history in one process and `git cat-file
--batch` streams every blob through one more, with no dependency to build (pygit2
needs libgit2; dulwich reads packs in pure Python, several times slower).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from types import TracebackType

from ..errors import UsageError
from .files import RECORD_SUFFIXES

_NO_BLOB = "0" * 40


@dataclass
class Commit:
    id: str
    time: dt.datetime  # the committer's time, UTC
    changed: list[tuple[str, str]] = field(default_factory=list)  # (path, blob id)
    deleted: list[str] = field(default_factory=list)


def is_record_path(path: str, folder: str | None) -> bool:
    """A record file as a folder import takes it: a record suffix, no hidden part."""
    if folder and not (path + "/").startswith(folder.strip("/") + "/"):
        return False
    parts = path.split("/")
    return not any(p.startswith(".") for p in parts) and path.lower().endswith(RECORD_SUFFIXES)


class Repository:
    """A repository to read: a working copy, a bare repository, or a bundle (cloned
    into a temporary folder, removed on close)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._clone: str | None = None
        self._blobs: subprocess.Popen[bytes] | None = None
        if shutil.which("git") is None:
            raise UsageError("--git needs the git command, which is not installed")
        try:
            self._open(location)
        except BaseException:
            self.close()
            raise

    def _open(self, location: str) -> None:
        if os.path.isfile(location):
            self._clone = tempfile.mkdtemp(prefix="archive-git-")
            self.path = os.path.join(self._clone, "repository")
            self._git("clone", "--quiet", "--bare", os.path.abspath(location), self.path, cwd=None)
            if self.head() is None:
                self._head_from_branches()
        else:
            self.path = location
            self._git("rev-parse", "--git-dir")

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._blobs is not None:
            self._blobs.stdin.close()  # type: ignore[union-attr]
            self._blobs.wait()
            self._blobs = None
        if self._clone is not None:
            shutil.rmtree(self._clone, ignore_errors=True)
            self._clone = None

    def head(self) -> str | None:
        try:
            return self._git("rev-parse", "--verify", "--quiet", "HEAD").decode().strip()
        except UsageError:
            return None  # an empty repository

    def _head_from_branches(self) -> None:
        """A bundle made without HEAD: its main (or master, or first) branch."""
        branches = self._git("for-each-ref", "--format=%(refname)", "refs/heads").decode().split()
        for wanted in ("refs/heads/main", "refs/heads/master", *branches[:1]):
            if wanted in branches:
                self._git("symbolic-ref", "HEAD", wanted)
                return

    def is_ancestor(self, commit: str) -> bool:
        result = subprocess.run(
            ["git", "-C", self.path, "merge-base", "--is-ancestor", commit, "HEAD"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def commits(self, after: str | None, folder: str | None) -> list[Commit]:
        """The first-parent commits of HEAD after `after` (all without it), oldest first,
        with the record files under `folder` each changed or deleted."""
        if self.head() is None:
            return []
        span = f"{after}..HEAD" if after else "HEAD"
        output = self._git(
            "log", "--first-parent", "--reverse", "--raw", "-z", "--no-renames", "--no-abbrev",
            "--diff-merges=first-parent", "--format=%x01%H %ct", span, "--",
            *([folder] if folder else []),
        )  # fmt: skip
        commits = []
        for entry in output.split(b"\x01")[1:]:
            header, _, raw = entry.partition(b"\0")
            sha, stamp = header.decode().split()
            commit = Commit(sha, dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc))
            tokens = raw.lstrip(b"\n").split(b"\0")
            for meta, name in zip(tokens[0::2], tokens[1::2], strict=False):
                if not meta.startswith(b":"):
                    continue
                path = os.fsdecode(name)
                if not is_record_path(path, folder):
                    continue
                fields = meta.decode().split()
                blob, status = fields[3], fields[4]
                if status == "D" or blob == _NO_BLOB:
                    commit.deleted.append(path)
                else:
                    commit.changed.append((path, blob))
            commits.append(commit)
        return commits

    def blob(self, blob_id: str) -> bytes:
        """A blob's bytes, through one long-running `git cat-file --batch`."""
        if self._blobs is None:
            self._blobs = subprocess.Popen(
                ["git", "-C", self.path, "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        stdin, stdout = self._blobs.stdin, self._blobs.stdout
        assert stdin is not None and stdout is not None
        stdin.write(blob_id.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            raise UsageError(f"{self.location}: git cannot read blob {blob_id}")
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return data

    def _git(self, *args: str, cwd: str | None = "") -> bytes:
        command = ["git", *args] if cwd is None else ["git", "-C", self.path, *args]
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode != 0:
            reason = result.stderr.decode(errors="replace").strip().splitlines()
            raise UsageError(
                f"{self.location}: not a git repository or bundle git can read"
                + (f" ({reason[-1]})" if reason else "")
            )
        return result.stdout
