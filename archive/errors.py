"""Errors a user is meant to see: one line, no traceback; and the exit statuses.

Every failure the `archive` command reports is one `error:` line on stderr and one
of the exit statuses in EXIT_STATUSES (docs/development.md's "Exit status" table is checked
against it by tests/test_mistakes.py).
"""

from __future__ import annotations

from .messages import printable

EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: a bug in archive, not the user's mistake
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C'd program
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports `yes | head -1`'s `yes`

EXIT_STATUSES: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (1, "some record files were rejected, or another failure"),
    (2, "usage error: an unknown option, a bad value, a path that does not exist"),
    (3, "the archive's schema is out of date: run `archive db upgrade`"),
    (4, "the archive stayed locked by another process past the busy timeout"),
    (
        5,
        "the archive cannot be opened: it is missing, not an archive, a folder,"
        " read-only (for import and db upgrade), cannot be read safely (docs/questions.md),"
        " or its driver or server is missing",
    ),
    (
        6,
        "output cannot be written: -o FILE exists (no --force), is no regular file,"
        " or its folder is missing/read-only; stdout fails; dump FOLDER is a file,"
        " read-only, or holds a file to overwrite",
    ),
    (7, "--fail-on-empty was given and the answer had no rows"),
    (
        8,
        "your SQL went past a limit and was stopped: its time (--timeout), the size of one"
        " value, or the memory SQLite may use",
    ),
    (EXIT_INTERNAL, "internal error (a bug): the message says where the full report is"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
    (EXIT_BROKEN_PIPE, "the output's reader went away (e.g. `head -1` had read enough)"),
)


class ArchiveError(Exception):
    """An expected failure: the CLI prints it as one line and exits non-zero."""

    exit_code = 1


class RecordError(ArchiveError):
    """A record file that cannot be imported, located as precisely as we know."""

    def __init__(
        self, reason: str, *, source: str = "", field: str | None = None, line: int | None = None
    ) -> None:
        reason = " ".join(reason.split())  # messages are one line, whatever the source said
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.field = field
        self.line = line

    def __reduce__(self) -> tuple:
        # Errors travel back from parser processes: keep every part, not just args.
        return (_rebuild_record_error, (self.reason, self.source, self.field, self.line))

    def located(self, source: str) -> RecordError:
        self.source = source
        return self

    def __str__(self) -> str:
        # The file name and field are the record's text: escaped, so a name with a
        # line break or an escape sequence cannot forge a line or drive the terminal.
        where = printable(self.source or "<record>")
        if self.line is not None:
            where += f":{self.line}"
        field = f" {printable(self.field)}:" if self.field else ""
        return f"{where}:{field} {printable(self.reason)}"


def _rebuild_record_error(
    reason: str, source: str, field: str | None, line: int | None
) -> RecordError:
    return RecordError(reason, source=source, field=field, line=line)


class UsageError(ArchiveError):
    """The command was asked for something impossible, e.g. a path that does not exist."""

    exit_code = 2


class BusyError(ArchiveError):
    """Another process held the archive's write lock for longer than we wait."""

    exit_code = 4


class SchemaOutOfDate(ArchiveError):
    """The database exists but is not at the revision this version of archive needs."""

    exit_code = 3


class ArchiveUnavailable(ArchiveError):
    """The archive cannot be opened as the command needs it: it is missing, not an
    archive, a folder, read-only for a command that writes, or its server or driver
    is missing."""

    exit_code = 5


class OutputError(ArchiveError):
    """The file or folder the user asked us to write cannot be written."""

    exit_code = 6


class QueryLimitError(ArchiveError):
    """A user's SQL ran out of time or memory, or made a value too long: it was
    stopped, which says nothing about its syntax (a script may retry with more)."""

    exit_code = 8


class EmptyAnswer(ArchiveError):
    """A command given --fail-on-empty found no rows (for scripts: `|| ...`)."""

    exit_code = 7
