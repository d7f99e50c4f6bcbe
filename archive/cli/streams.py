"""Standard input, output and error when they are closed, full or failing.

Started with a stream closed (`archive topics >&-`), Python has no sys.stdout at
all, and the first file the command opens (the archive, an -o file) would get the
closed stream's descriptor: a C library's message on stderr, or our output, would
land in that file. So each closed descriptor is pointed at /dev/null first, and:

- stdout is wrapped so that a write it cannot take (closed, a full disk, an I/O
  error) raises StdoutFailed, which the CLI reports as one line and exit status 6
  (`OutputError`), instead of a traceback. A reader that went away (EPIPE) stays a
  BrokenPipeError: the CLI ends quietly for that, as `cat` does.
- stderr drops what it cannot write: there is nowhere left to say it, and the exit
  status still tells.
- stdin stays None when it was closed; `import -` rejects it as a file it cannot read.

Only the process's own streams are replaced (not a test runner's stand-ins).
"""

from __future__ import annotations

import errno
import io
import os
import sys
from contextlib import suppress

# typing.TYPE_CHECKING without importing typing: `archive sql` starts without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


class StdoutFailed(OSError):
    """Standard output cannot be written: not a bug, and not a broken pipe."""


class _Stdout(io.FileIO):
    """Descriptor 1, whose failed writes are told apart from other OSErrors."""

    def __init__(self, closed: bool) -> None:
        super().__init__(1, "w", closefd=False)
        self.was_closed = closed
        self.discarding = False  # set once the failure is reported: nothing more to say

    def write(self, data: Any) -> int:
        if self.discarding:
            return len(data)
        if self.was_closed:
            raise StdoutFailed(errno.EBADF, "it is closed")
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutFailed(exc.errno, exc.strerror) from None


class _Stderr(io.FileIO):
    """Descriptor 2, dropping what cannot be written (closed or full)."""

    def __init__(self) -> None:
        super().__init__(2, "w", closefd=False)

    def write(self, data: Any) -> int:
        try:
            return super().write(data)
        except OSError:
            return len(data)


def guard() -> None:
    """Point closed descriptors 0-2 at /dev/null and wrap stdout and stderr (above)."""
    closed = {fd for fd in (0, 1, 2) if not _is_open(fd)}
    for fd in sorted(closed):
        _point_at_devnull(fd)
    if sys.stdout is sys.__stdout__ and not _guarded(sys.stdout):
        sys.stdout = _text(_Stdout(1 in closed), like=sys.__stdout__)
    if sys.stderr is sys.__stderr__ and not _guarded(sys.stderr):
        sys.stderr = _text(_Stderr(), like=sys.__stderr__, errors="backslashreplace")


def discard_stdout() -> None:
    """After stdout's failure is reported: whatever is still buffered goes nowhere,
    so Python's flush at exit does not fail again ("Exception ignored ...")."""
    raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    if isinstance(raw, _Stdout):
        raw.discarding = True
        return
    with suppress(OSError, ValueError, AttributeError):  # no real stdout (tests)
        _point_at_devnull(sys.stdout.fileno())


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _point_at_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


def _guarded(stream: TextIO | None) -> bool:
    raw = getattr(getattr(stream, "buffer", None), "raw", None)
    return isinstance(raw, (_Stdout, _Stderr))


def _text(raw: io.FileIO, like: TextIO | None, errors: str = "strict") -> TextIO:
    """A text stream on `raw` that behaves like the one Python made (or would have)."""
    interactive = raw.isatty()
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=getattr(like, "encoding", None) or "utf-8",
        errors=getattr(like, "errors", None) or errors,
        newline="\n",
        line_buffering=getattr(like, "line_buffering", interactive),
        write_through=getattr(like, "write_through", False),
    )
