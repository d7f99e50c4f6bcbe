"""Finding record files and reading them: the importer's input, in order, a chunk ahead.

Paths are walked depth-first in sorted name order, one directory listing at a
time, so memory stays flat however many files there are. Each file is read and
hashed (SHA-256) here; whether its content is new is decided elsewhere (changes.py).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..errors import ArchiveError, RecordError, UsageError
from .records import MAX_FILE_BYTES, content_hash

RECORD_SUFFIXES = (".md", ".txt", ".yaml", ".yml")
STDIN = "-"

# A file as read: (path, bytes and their SHA-256, or the error that kept it unread).
File = tuple[str, "bytes | RecordError", "str | None"]


def find_record_files(paths: Iterable[str]) -> Iterator[str]:
    """Record files under `paths`, directories walked depth-first in sorted name order.

    A file named explicitly is taken whatever its suffix; inside directories only
    .md, .txt, .yaml and .yml files are records (hidden files and folders are skipped).
    Only one directory listing is held at a time, so memory stays flat however many
    files there are.
    """
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists():
            yield str(path)
        else:
            raise UsageError(f"{raw}: no such file or directory")


def _walk(folder: Path) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise ArchiveError(f"{folder}: cannot list folder: {exc.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(Path(entry.path))
        elif entry.name.lower().endswith(RECORD_SUFFIXES):
            yield entry.path


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
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-read")
    ahead: deque[Future[list[File]]] = deque()
    try:
        for chunk in chunks:
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
