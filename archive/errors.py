"""Errors a user is meant to see: one line, no traceback."""

from __future__ import annotations


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
        where = self.source or "<record>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.reason}"


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


class EmptyAnswer(ArchiveError):
    """A command given --fail-on-empty found no rows (for scripts: `|| ...`)."""

    exit_code = 5
