"""What one import did, counted as it goes: the summary the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RecordError
from .writer import FileOutcome

# The summary keeps the first messages (and merged pairs) only: a million bad files
# must not cost memory.
MAX_KEPT_ERRORS = 1000


@dataclass
class ImportSummary:
    files_seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    articles_added: int = 0
    providers_added: int = 0
    topics_added: int = 0
    images_added: int = 0
    # Files that describe an article another file (path) also describes; the one
    # imported last is shown, and both stay in the archive.
    merged: int = 0
    # New paths whose bytes another file brought before (also counted new): kept
    # and applied like any new file. (file, the earlier file), the first ones only.
    copies: int = 0
    copied_pairs: list[tuple[str, str]] = field(default_factory=list)
    # git: files deleted by the imported commits, and the commits imported.
    removed: int = 0
    commits: int = 0
    errors: list[str] = field(default_factory=list)
    # (file, the other file describing its article), the first ones only.
    merged_pairs: list[tuple[str, str]] = field(default_factory=list)
    # Files whose outcome is committed (imported, unchanged or rejected): what an
    # interrupted import keeps.
    saved: int = 0
    # Stopped before its last file (Importer.request_stop or Ctrl-C).
    interrupted: bool = False
    # The query indexes a first import defers were not built (see deferred_indexes).
    indexes_pending: bool = False
    # What walked folders hold that was not read (files.find_record_files), once per
    # reason: reason -> (the first such path, how many).
    skipped: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def add(self, path: str, outcome: FileOutcome, updated: bool, copy: bool = False) -> None:
        if updated:
            self.updated += 1
        else:
            self.new += 1
        if outcome.merged_with is not None and not copy:
            self.merged += 1
            if len(self.merged_pairs) < MAX_KEPT_ERRORS:
                self.merged_pairs.append((path, outcome.merged_with))
        self.articles_added += outcome.articles
        self.providers_added += outcome.providers
        self.topics_added += outcome.topics
        self.images_added += outcome.images

    def copy(self, path: str, original: str | None) -> None:
        self.copies += 1
        if len(self.copied_pairs) < MAX_KEPT_ERRORS:
            self.copied_pairs.append((path, original or "?"))

    def skip(self, reason: str, path: str) -> None:
        first, count = self.skipped.get(reason, (path, 0))
        self.skipped[reason] = (first, count + 1)

    def reject(self, error: RecordError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(str(error))
