"""Walking folders as git and ripgrep do: regular files only, no loops, any depth,
and never out of the folder given.

Before: a FIFO named x.md hung the import forever, a symbolic link loop and 1,200
nested folders ended in exit status 70, and a link to /etc was followed and its
files read. Now each is passed by with one note per kind, the rest is imported, and
the order stays the documented one (folders depth-first, names sorted). Real
processes, as a user runs them (a hang fails after the timeout).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import DATA, record, write
from reliability_checks import imported_paths, run_archive

from archive.ingest.files import find_record_files

# Far beyond what these small imports take on any machine: it only turns a hang
# into a failure.
HANG = 120


def good(folder: Path, name: str) -> Path:
    return write(folder, name, record(f"https://example.com/{name.replace('/', '-')}"))


def run_import(db: Path, *paths: Path) -> tuple[int, list[str], list[str]]:
    """(exit status, the notes it printed, the files it imported in order)."""
    result = run_archive(db, "import", "--workers", "0", *map(str, paths), timeout=HANG)
    assert "Traceback" not in result.stderr, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    return result.returncode, notes, imported_paths(db)


def test_fifos_sockets_and_devices_are_passed_by_with_one_note_per_kind(tmp_path, monkeypatch):
    root = tmp_path / "records"
    good(root, "a.md")
    os.mkfifo(root / "x.md")  # nothing ever writes to it: reading it would never end
    os.mkfifo(root / "y.md")
    monkeypatch.chdir(root)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("z.md")
    try:
        # A device node like /dev/null (reading /dev/zero would never end either).
        os.mknod(root / "null.md", stat.S_IFCHR | 0o600, os.stat("/dev/null").st_rdev)
        good(root, "b.md")
        status, notes, paths = run_import(tmp_path / "w.db", root)
    finally:
        listener.close()
    assert status == 0, notes
    assert paths == [str(root / "a.md"), str(root / "b.md")]
    assert notes == [
        f"note: skipped {root / 'null.md'}: a character device, not a regular file",
        f"note: skipped {root / 'x.md'}: a FIFO (named pipe), not a regular file"
        " (and 1 more like it)",
        f"note: skipped {root / 'z.md'}: a socket, not a regular file",
    ]


def test_symbolic_link_loops_end(tmp_path):
    root = tmp_path / "records"
    good(root, "a.md")
    good(root, "sub/b.md")
    os.symlink("..", root / "sub" / "up")  # back to an ancestor
    os.symlink("self.md", root / "self.md")  # to itself: ELOOP
    os.symlink("ping", root / "pong")
    os.symlink("pong", root / "ping")
    status, notes, paths = run_import(tmp_path / "w.db", root)
    assert status == 0, notes
    assert paths == [str(root / "a.md"), str(root / "sub" / "b.md")]
    loops = [n for n in notes if "loop" in n]
    assert loops == [f"note: skipped {root / 'ping'}: a symbolic link loop (and 3 more like it)"]


def test_folders_nested_deeper_than_pythons_recursion_limit(tmp_path):
    root = tmp_path / "records"
    os.mkdir(root)
    try:
        with in_folder(root):  # relative paths: no name grows too long
            for _ in range(DEPTH):
                os.mkdir("d")
                os.chdir("d")
            good(Path("."), "deep.md")
        status, notes, paths = run_import(tmp_path / "w.db", root)
    finally:
        remove_deep(root)
    assert status == 0, notes
    assert paths == [str(root / Path(*["d"] * DEPTH) / "deep.md")]


DEPTH = 1200


@contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    here = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def remove_deep(root: Path) -> None:
    """Remove the nested folders without recursion: shutil.rmtree (and pytest's
    clean-up of old temporary folders, which other test runs do) would hit the limit."""
    with in_folder(root):
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for name in os.listdir("."):
            os.unlink(name)
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")


def test_links_are_followed_only_inside_the_folder_given(tmp_path):
    outside = tmp_path / "outside"
    good(outside, "secret.md")
    root = tmp_path / "records"
    good(root, "real/a.md")
    os.symlink(outside, root / "out")  # a folder outside: not followed
    os.symlink(outside / "secret.md", root / "secret.md")  # a file outside: not read
    os.symlink("real", root / "within")  # a folder inside: followed
    os.symlink(root / "real" / "a.md", root / "copy.md")  # a file inside: followed
    status, notes, paths = run_import(tmp_path / "w.db", root)
    assert status == 0, notes
    assert not any("secret" in p for p in paths), paths
    outside_notes = [n for n in notes if "out of the folder" in n]
    assert outside_notes == [
        f"note: skipped {root / 'out'}: a symbolic link leading out of the folder given"
        " (and 1 more like it)"
    ]
    # The linked names are read (the same content counts as a copy, "unchanged").
    result = run_archive(tmp_path / "w.db", "import", str(root), timeout=HANG)
    assert "4 seen" not in result.stderr and "3 seen" in result.stderr, result.stderr

    # A link named on the command line is the user's choice: it is followed.
    link = tmp_path / "link"
    os.symlink(outside, link)
    status, _notes, paths = run_import(tmp_path / "w.db", link)
    assert status == 0
    assert str(link / "secret.md") in paths


def test_the_order_is_folders_depth_first_names_sorted(tmp_path):
    root = tmp_path / "records"
    names = ["a.md", "b/a.md", "b/c/z.md", "b/d.md", "ba.md", "c.md", "c_/x.md", "d/e/f/g.md"]
    for name in reversed(names):  # created in another order than the walk's
        good(root, name)
    write(root, ".hidden/h.md", "x")
    write(root, "notes.pdf", "x")
    expected = [str(root / name) for name in names]
    assert list(find_record_files([str(root)])) == expected
    status, _notes, paths = run_import(tmp_path / "w.db", root)
    assert status == 0
    assert paths == expected


def test_the_real_sample_walks_as_before(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    walked = list(find_record_files([str(folder)]))
    expected = sorted(
        str(p) for p in folder.rglob("*") if p.suffix in (".md", ".txt", ".yaml", ".yml")
    )
    assert walked == expected


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_a_path_given_explicitly_is_taken_as_it_is(tmp_path, kind):
    if kind == "fifo":
        # A pipe named on the command line is read (e.g. `archive import <(cat x.md)`).
        source = tmp_path / "pipe.md"
        os.mkfifo(source)
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                with open(source, "w") as pipe:
                    pipe.write(record("https://example.com/piped"))
            finally:
                os._exit(0)
        status, _notes, paths = run_import(tmp_path / "w.db", source)
        os.waitpid(pid, 0)
        assert status == 0 and paths == [str(source)]
    else:
        os.symlink("self", tmp_path / "self")
        result = run_archive(tmp_path / "w.db", "import", str(tmp_path / "self"), timeout=HANG)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
