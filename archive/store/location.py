"""Where an archive is: `--db`, `$ARCHIVE_DB` or the default, as a file or a URL.

Free of SQLAlchemy, so that the read-only commands (`archive sql`, `archive
export`) start without loading it.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from pathlib import Path
from urllib.parse import unquote

from ..errors import ArchiveUnavailable

DEFAULT_DB = "archive.db"
# How long a command waits for another process's write lock before giving up
# (exit 4): 30 s, or $ARCHIVE_BUSY_TIMEOUT seconds (tests wait less).
BUSY_TIMEOUT_ENV = "ARCHIVE_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT_MS = 30_000


def busy_timeout_problem() -> str | None:
    """What is wrong with $ARCHIVE_BUSY_TIMEOUT, if anything (the CLI refuses it)."""
    text = os.environ.get(BUSY_TIMEOUT_ENV)
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        return f"${BUSY_TIMEOUT_ENV} must be a number of seconds from 0 to 86400, not {text!r}"
    return None


def _busy_timeout_ms() -> int:
    if busy_timeout_problem() is not None or BUSY_TIMEOUT_ENV not in os.environ:
        return DEFAULT_BUSY_TIMEOUT_MS
    return int(float(os.environ[BUSY_TIMEOUT_ENV]) * 1000)


BUSY_TIMEOUT_MS = _busy_timeout_ms()

# The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def resolve_location(db: str | None) -> str:
    """`--db`, else `$ARCHIVE_DB`, else archive.db in the current directory."""
    return db or os.environ.get("ARCHIVE_DB") or DEFAULT_DB


def is_url(location: str) -> bool:
    """`dialect://...` is a SQLAlchemy URL; anything else is a file path.

    So `file:x?mode=rw` is a file of that odd name, never a SQLite URI with options.
    """
    return "://" in location.split("?", 1)[0] and not location.startswith("file:")


def shown(location: str) -> str:
    """The location as messages print it: a URL's password replaced by ***.

    Without SQLAlchemy (see the module docstring), so by hand: the password is what
    lies between the first ':' and the last '@' of the part after '//'.
    """
    if not is_url(location):
        return location
    scheme, rest = location.split("://", 1)
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not at or ":" not in user:
        return location
    name = user.split(":", 1)[0]
    return f"{scheme}://{name}:***@{host}{slash}{path}"


def password_of(location: str) -> str | None:
    """A URL's password as written (percent-encoded or not), to scrub it from messages."""
    if not is_url(location):
        return None
    authority = location.split("://", 1)[1].partition("/")[0]
    user = authority.rpartition("@")[0]
    if ":" not in user:
        return None
    return user.split(":", 1)[1] or None


def scrubbed(message: str, location: str) -> str:
    """`message` without the password of the URL `location`, replaced by *** where a
    URL or a connection string carries it (`user:PASSWORD@`, `password=PASSWORD`).
    Only there: the same letters elsewhere are the message's own (a password `read`
    must not turn "read-only" into "***-only")."""
    password = password_of(location)
    if not password:
        return message
    message = message.replace(location, shown(location))
    for form in {password, unquote(password)}:
        text = re.escape(form)
        message = re.sub(rf"(?<=:){text}(?=@)", "***", message)
        message = re.sub(rf"(?<=password=){text}|(?<=password=')({text})(?=')", "***", message)
    return message


def _creating_hint(path: str) -> str:
    import shlex  # for messages only; its import compiles a regular expression

    command = "archive import" if path == DEFAULT_DB else f"archive --db {shlex.quote(path)} import"
    return f"`{command} PATH` creates it from record files"


def open_mode(path: str, *, create: bool = False, write: bool = False) -> str:
    """How to open the SQLite archive file `path`, checked before SQLite is asked:
    "rw" for a file this process may write, else "ro" (SQLite's mode=ro) or
    "immutable". A reader sees committed states only; the rule (README: "Who may
    read an archive"):
    - SQLite's -shm file is there (an import or another reader has the archive
      open): mode=ro, which reads through it, read-only or not, and takes its locks.
    - else, a frozen archive (frozen_reason: nobody can change it) is read
      immutable: no locks, no files beside it.
    - else, mode=ro creates the -wal/-shm files, which only a process that may
      write the archive and its folder can do (and remove afterwards); any other
      is refused (UnsafeRead), since no lock would keep an import from changing
      the file under its read.

    Raises ArchiveUnavailable, in words, for a folder, a missing file (unless
    `create`), a file that is not SQLite, a read-only one when `write`, and a read
    that cannot be safe.
    """
    file = Path(path)
    folder = file.parent
    if file.is_dir():
        raise ArchiveUnavailable(
            f"cannot open archive {path}: it is a folder; --db names the archive file"
            f" (e.g. {file / DEFAULT_DB})"
        )
    if not folder.is_dir():
        raise ArchiveUnavailable(f"cannot open archive {path}: folder {folder} does not exist")
    if not file.exists():
        if not create:
            raise ArchiveUnavailable(f"no archive at {path}: {_creating_hint(path)}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ArchiveUnavailable(f"cannot create archive {path}: folder {folder} is read-only")
        return "rw"
    try:
        with open(file, "rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ArchiveUnavailable(f"cannot open archive {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:  # an empty file is an empty SQLite database
        raise ArchiveUnavailable(f"{path} is not an archive: it is not a SQLite database file")
    reason = read_only_reason(file)
    if write and reason is not None:
        raise ArchiveUnavailable(
            f"cannot write to archive {path}: {reason} (commands that only read it still work)"
        )
    if write:
        return "rw"
    return read_mode(file, writable=reason is None)


def read_mode(file: Path, *, writable: bool) -> str:
    """open_mode's answer for reading an existing SQLite file (see there)."""
    wal = Path(f"{file}-wal")
    if Path(f"{file}-shm").exists() or (wal.exists() and wal.stat().st_size > 0):
        return "rw" if writable else "ro"
    if frozen_reason(file) is not None:
        return "immutable"
    if writable:
        return "rw"
    raise unsafe_read(file)


def frozen_reason(file: Path) -> str | None:
    """Why nobody can change the archive `file`, if so: it is on a read-only file
    system, or the file or its folder has no write permission bit at all (`chmod
    a-w`), which import obeys even as root (read_only_reason)."""
    with suppress(OSError):
        if os.statvfs(file).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    if not file.stat().st_mode & 0o222:
        return "no one may write the file"
    if not file.parent.stat().st_mode & 0o222:
        return f"no one may write its folder {file.parent}"
    return None


def unsafe_read(file: Path) -> UnsafeRead:
    """The refusal for a reader that cannot open the archive `file` through SQLite's
    -shm file (also when the file went away between looking and opening)."""
    if not os.access(file.parent, os.W_OK | os.X_OK):
        return UnsafeRead(str(file), f"its folder {file.parent} is read-only to you")
    # The folder is ours but the file is not: -wal/-shm files we made would be ours,
    # and its owner's next import could not write them.
    return UnsafeRead(str(file), "the file is read-only to you")


class UnsafeRead(ArchiveUnavailable):
    """A reader that could see an import half-written: refused, in one line."""

    def __init__(self, path: str, why: str) -> None:
        import shlex

        super().__init__(
            f"cannot read archive {path} safely: {why} and no SQLite -shm file is beside it,"
            f" so nothing would stop an import from changing it mid-read; its owner can"
            f" freeze it for readers (chmod a-w {shlex.quote(path)}) or let you write the"
            " folder"
        )


def read_only_reason(file: Path) -> str | None:
    """Why SQLite could not write the archive `file`, or None if it can.

    Asked with os.access, which answers for this process: root may write a file
    without write permission bits. Not a frozen archive, though (frozen_reason):
    readers rely on nobody writing one, so it is read-only for root too.
    """
    if not os.access(file, os.W_OK) or not file.stat().st_mode & 0o222:
        return "the file is read-only"
    folder = file.parent
    if not folder.stat().st_mode & 0o222:
        return f"its folder {folder} is read-only (SQLite keeps its -wal and -shm files there)"
    sidecars = [Path(f"{file}{suffix}") for suffix in ("-wal", "-shm")]
    if all(p.exists() and os.access(p, os.R_OK | os.W_OK) for p in sidecars):
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is read-only (SQLite keeps its -wal and -shm files there)"
    return None


def sqlite_uri(path: str, mode: str) -> str:
    """A `file:` URI for open_mode's answer. as_uri() percent-encodes the path, so a
    file named like "x?mode=rw" stays a name."""
    uri = Path(path).resolve().as_uri()
    return {"rw": uri, "ro": f"{uri}?mode=ro", "immutable": f"{uri}?mode=ro&immutable=1"}[mode]


def archive_files(location: str) -> tuple[str, ...]:
    """The files that make up the archive at `location`: the SQLite file, its
    -wal/-shm and a rollback -journal (whether they exist now or not); none for a
    server's URL."""
    if is_url(location):
        return ()
    return (location, *(f"{location}{suffix}" for suffix in ("-wal", "-shm", "-journal")))


def sidecars_exist(path: Path) -> bool:
    """Whether SQLite's -wal or -shm file is beside the archive `path`."""
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm"))


def tidy_sidecars(path: Path) -> None:
    """Remove the -wal/-shm files read-only connections created and cannot remove.

    The last connection to close removes them, and a read-only one cannot: so open
    and close a normal one. It runs no write, and if an import is still connected
    the files stay, as they should. Best effort: a file another process holds
    locked keeps its files anyway.
    """
    import sqlite3  # here: `location` is read at every start-up, sqlite3 is not

    with suppress(sqlite3.Error):
        tidy = sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=0)
        try:
            tidy.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            tidy.close()
