"""Whether a path may be written as an output file: `-o FILE`, and each file `dump` writes.

Only regular files are written. Writing goes through a temporary file and a rename,
so a target that is a device, a FIFO or a socket would be replaced by a regular
file (as root, /dev/null would become a CSV file); and the archive itself, or its
-wal/-shm files, must never be replaced by an answer read from it. Files are told
apart by identity (device and inode), so a hard link or another spelling of the
archive's path is recognised too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from ..errors import OutputError

# What a path that is not a regular file is, in the words of `ls -l`'s first letter.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a file of st_mode `mode` is, in words ("a regular file", "a FIFO (named pipe)")."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_output_file(target: str, protected: Iterable[str] = ()) -> bool:
    """Raise OutputError unless `target` may be written as a regular file; return
    whether it exists (then replacing it needs --force, which callers decide).

    Refused: a symbolic link (never written through), a folder, a FIFO, a device,
    a socket, and any of the `protected` files (the archive and its -wal/-shm),
    whether it exists already or would be created under that name.
    """
    try:
        status = os.lstat(target)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror}") from None
    for path in protected:
        if _same_file(target, status, path):
            what = "the archive itself" if target == path else f"the archive's file {path}"
            raise OutputError(f"{target} is {what}: refusing to overwrite it")
    if status is None:
        return False
    if stat.S_ISLNK(status.st_mode):
        raise OutputError(f"{target} is a symbolic link: refusing to write through it")
    if stat.S_ISDIR(status.st_mode):
        example = os.path.join(target, "out.csv")
        raise OutputError(f"{target} is a folder: -o takes a file name (e.g. {example})")
    if not stat.S_ISREG(status.st_mode):
        raise OutputError(
            f"{target} is {kind_of(status.st_mode)}: only regular files are written"
            " (also with --force)"
        )
    return True


def _same_file(target: str, status: os.stat_result | None, path: str) -> bool:
    try:
        other = os.stat(path)
    except OSError:
        other = None
    if status is not None and other is not None:
        return (status.st_dev, status.st_ino) == (other.st_dev, other.st_ino)
    # Not there yet (an archive without -wal now): the name SQLite would look for.
    return os.path.realpath(target) == os.path.realpath(path)
