"""Finding record files and reading them: the importer's input, in order, a chunk ahead.

Paths are walked depth-first in sorted name order, without recursion, holding
only the listings of the folders on the way down, so memory stays flat however
many files there are. Only regular files are read from a walked folder, and
symbolic links are followed only inside it (see _walk). Each file is read and
hashed (SHA-256) here; whether its content is new is decided elsewhere (changes.py).
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import ArchiveError, RecordError, UsageError
from ..messages import printable
from .records import MAX_FILE_BYTES, content_hash

RECORD_SUFFIXES = (".md", ".txt", ".yaml", ".yml")
STDIN = "-"

# A file as read: (path, bytes and their SHA-256, or the error that kept it unread).
File = tuple[str, "bytes | RecordError", "str | None"]


def find_record_files(
    paths: Iterable[str], on_skip: Callable[[str, str], None] | None = None
) -> Iterator[str]:
    """Record files under `paths`, directories walked depth-first in sorted name order.

    A path named explicitly is taken whatever its suffix and kind (a symbolic link
    is followed, a pipe is read); inside directories only regular .md, .txt, .yaml
    and .yml files are records (hidden files and folders are skipped). What a folder
    holds that is not read is told to `on_skip(reason, path)`: FIFOs, sockets and
    devices named like records, symbolic links leading out of the folder given, and
    loops. Only the listings of the folders being walked are held, so memory stays
    flat however many files there are.
    """
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        try:
            is_folder = stat.S_ISDIR(os.stat(raw).st_mode)
        except FileNotFoundError:
            raise UsageError(f"{printable(raw)}: no such file or directory") from None
        except OSError as exc:
            raise UsageError(f"{printable(raw)}: {exc.strerror}") from None
        if is_folder:
            yield from _walk(raw, on_skip or (lambda _reason, _path: None))
        else:
            yield str(Path(raw))


# Why an entry of a walked folder is not read, as the import's notes say it.
LOOP = "a symbolic link loop"
OUTSIDE = "a symbolic link leading out of the folder given"
_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe), not a regular file"),
    (stat.S_ISSOCK, "a socket, not a regular file"),
    (stat.S_ISCHR, "a character device, not a regular file"),
    (stat.S_ISBLK, "a block device, not a regular file"),
)


def _walk(top: str, on_skip: Callable[[str, str], None]) -> Iterator[str]:
    """Walk `top` as git and ripgrep do, without recursion (any depth).

    Each folder's entries are visited in sorted name order, a subfolder's whole
    tree where its name comes. A symbolic link is followed only when its real
    target lies inside `top`; a folder that is one of its own ancestors (a link
    back up) is a loop. A plain file costs no system call: the listing gives its type.
    """
    root = os.path.realpath(top)
    stack = [(_listing(top), _identity(os.stat(top)))]
    while stack:
        entries, _ = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        record = entry.name.lower().endswith(RECORD_SUFFIXES)
        link = entry.is_symlink()
        if not link and not entry.is_dir(follow_symlinks=False):
            if record and entry.is_file(follow_symlinks=False):
                yield entry.path
            elif record:
                on_skip(_special(entry.stat(follow_symlinks=False).st_mode), entry.path)
            continue
        status = (
            _followed(entry, root, record, on_skip) if link else entry.stat(follow_symlinks=False)
        )
        if status is None:
            continue
        if stat.S_ISDIR(status.st_mode):
            if any(_identity(status) == identity for _, identity in stack):
                on_skip(LOOP, entry.path)
            else:
                stack.append((_listing(entry.path), _identity(status)))
        elif record and stat.S_ISREG(status.st_mode):
            yield entry.path
        elif record:
            on_skip(_special(status.st_mode), entry.path)


def _followed(
    entry: os.DirEntry[str], root: str, record: bool, on_skip: Callable[[str, str], None]
) -> os.stat_result | None:
    """What the symbolic link `entry` leads to, or None (with a note) to pass it by."""
    target = os.path.realpath(entry.path)
    inside = os.path.commonpath([root, target]) == root
    try:
        status = os.stat(entry.path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            on_skip(LOOP, entry.path)
        elif record:
            on_skip(f"a symbolic link that cannot be followed ({exc.strerror})", entry.path)
        return None
    if not inside:
        if record or stat.S_ISDIR(status.st_mode):
            on_skip(OUTSIDE, entry.path)
        return None
    return status


def _special(mode: int) -> str:
    for test, reason in _SPECIAL:
        if test(mode):
            return reason
    return "not a regular file"


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _listing(folder: str) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return iter(sorted(entries, key=lambda e: e.name))
    except OSError as exc:
        raise ArchiveError(f"{printable(folder)}: cannot list folder: {exc.strerror}") from None


# Bytes asked for per read: a read allocates what it asks for before it knows how
# much there is, so a --max-file-size of a gigabyte must not mean a gigabyte per file.
READ_CHUNK = 1024 * 1024


def _read_bounded(read: Callable[[int], bytes], max_bytes: int) -> bytes:
    """Up to `max_bytes` + 1 bytes (one more tells a file over the limit), in chunks."""
    parts = []
    total = 0
    while total <= max_bytes:
        part = read(min(max_bytes + 1 - total, READ_CHUNK))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_source(path: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes; one larger than `max_bytes` is refused without reading it all."""
    try:
        if path == STDIN:
            if sys.stdin is None:  # started with it closed (`<&-`)
                raise RecordError("cannot read file: standard input is closed", source=path)
            data = _read_bounded(sys.stdin.buffer.read, max_bytes)
        else:
            # os.open/os.read: no buffered file object, fewer system calls per file,
            # which is most of what a re-import of unchanged files costs.
            descriptor = os.open(path, os.O_RDONLY)
            try:
                data = _read_bounded(lambda size: os.read(descriptor, size), max_bytes)
            finally:
                os.close(descriptor)
    except OSError as exc:
        raise RecordError(f"cannot read file: {exc.strerror}", source=path) from None
    if len(data) > max_bytes:
        raise RecordError(
            f"file is larger than {max_bytes} bytes (see --max-file-size)", source=path
        )
    return data


def read_files(paths: list[str], max_bytes: int) -> list[File]:
    files: list[File] = []
    for path in paths:
        try:
            data = read_source(path, max_bytes)
        except RecordError as error:
            files.append((path, error, None))
            continue
        files.append((path, data, content_hash(data)))
    return files


def read_ahead(chunks: Iterable[list[str]], max_bytes: int) -> Iterator[list[File]]:
    """Read and hash the next chunk of files in a thread while this one is written.

    Both let go of the GIL (system calls; hashlib for more than 2 KB), so they run
    beside the writer instead of taking its time (3% of it at 30,000 records).
    The first two chunks are read here, without the thread: the parser processes
    are usually forked when the second is submitted, and it is safer to fork a
    process before it has other threads (the child could inherit a lock one of
    them held).
    """
    chunks = iter(chunks)
    for chunk in itertools.islice(chunks, 2):
        yield read_files(chunk, max_bytes)
    third = next(chunks, None)
    if third is None:
        return  # a small import: no thread, nor the module that makes one (5 ms)
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-read")
    ahead: deque[Future[list[File]]] = deque()
    try:
        for chunk in itertools.chain([third], chunks):
            ahead.append(pool.submit(read_files, chunk, max_bytes))
            if len(ahead) > 1:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def chunked(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def missing_path(paths: Iterable[str]) -> str | None:
    """The first of `paths` that does not exist (`-` is stdin), or None."""
    for path in paths:
        if path != STDIN and not os.path.lexists(path):
            return path
    return None
