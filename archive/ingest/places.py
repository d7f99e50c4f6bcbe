"""Where a file is: its collection (the folder given, or a git repository) and its
path inside it. That pair is the file's identity; each content it brings is a version.

Two collections with the same relative paths stay apart, and the same folder given
again (by another relative spelling) is the same collection, as its key is its
absolute location.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .files import STDIN, find_record_files

# A folder written by `archive dump` lists its files here in the order they were
# imported, so that importing it again applies them in that order (README: Files
# and versions). Hidden, so the walk never takes it for a record. A line is a path
# (relative, `/`-separated); `PATH<TAB>STORED` is a version of PATH whose bytes are
# in STORED (`dump --all-versions`), `PATH<TAB>` marks PATH deleted there.
ORDER_FILE = ".archive-order"
# What `located` gives for a file deleted at that point of the order.
REMOVAL = ""


@dataclass(frozen=True)
class Collection:
    key: str  # `folder:`, `git:` or `stdin:` and the absolute location
    kind: str
    name: str  # what dump names its folder


STDIN_COLLECTION = Collection("stdin:", "stdin", "stdin")


@dataclass(frozen=True)
class Place:
    """One version's where and when: the file's identity, and git's commit if any."""

    collection: Collection
    rel_path: str
    commit_id: str | None = None
    committed_at: dt.datetime | None = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.collection.key, self.rel_path)


def folder_collection(folder: str) -> Collection:
    absolute = os.path.abspath(folder)
    return Collection("folder:" + absolute, "folder", os.path.basename(absolute) or "root")


def stdin_place(digest: str) -> Place:
    """A record read from stdin has no path: its content names it, so the same record
    piped twice is one file, and two different ones are two."""
    return Place(STDIN_COLLECTION, f"stdin-{digest[:12]}.md")


def located(
    paths: Iterable[str], on_skip: Callable[[str, str], None] | None = None
) -> Iterator[tuple[str, Place | None]]:
    """The record files under `paths` (as files.find_record_files finds them, telling
    `on_skip` what it does not read), each with its place: a folder given is a
    collection; a file given alone belongs to the collection of its folder. stdin's
    place waits for its content (None)."""
    for raw in paths:
        if raw == STDIN:
            yield STDIN, None
            continue
        root = raw if os.path.isdir(raw) else os.path.dirname(raw) or "."
        collection = folder_collection(root)
        order = os.path.join(root, ORDER_FILE)
        if raw != root or not os.path.isfile(order):
            for path in find_record_files([raw], on_skip):
                yield path, Place(collection, _relative(path, root))
            continue
        for path, rel in _in_order(root, order, on_skip):
            yield path, Place(collection, rel)


def _relative(path: str, root: str) -> str:
    """`path` relative to `root`, `/`-separated. The walk gives paths that start with
    the folder given, so a slice is enough (os.path.relpath took a fifth of a
    re-import's time)."""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if path.startswith(prefix) and root != ".":
        relative = path[len(prefix) :]
    else:
        relative = os.path.relpath(path, root)
    return relative if os.sep == "/" else Path(relative).as_posix()


def _in_order(
    root: str, order: str, on_skip: Callable[[str, str], None] | None
) -> Iterator[tuple[str, str]]:
    """A dumped folder's files (path to read, path in the collection) in the order
    its order file lists, then any others in walk order."""
    found = list(find_record_files([root], on_skip))
    present = {_relative(p, root): p for p in found}
    with open(order, encoding="utf-8") as listing:
        listed = [line.rstrip("\n") for line in listing if line.strip()]
    taken = set()
    for line in listed:
        rel, tab, stored = line.partition("\t")
        if tab and not stored:
            yield REMOVAL, rel
        elif tab:
            inside = _inside(root, stored)
            if inside is not None:
                yield inside, rel
        elif rel in present:
            taken.add(rel)
            yield present[rel], rel
    for rel, path in present.items():
        if rel not in taken:
            yield path, rel


def _inside(root: str, relative: str) -> str | None:
    """`relative` under `root`, if it stays inside it and is a file (the order file
    could say anything)."""
    path = os.path.join(root, relative)
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return path
