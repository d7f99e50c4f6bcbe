"""`archive import`: record files in, with progress on a terminal and a summary."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from ..errors import EXIT_INTERRUPTED, ArchiveError, UsageError
from ..messages import printable
from .app import cli
from .completion import complete_files
from .options import Number, db_location, examples

MAX_FILE_SIZE_MB = 1024

if TYPE_CHECKING:
    from ..ingest.importer import Importer
    from ..ingest.summary import ImportSummary
    from .progress import ImportProgress


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@cli.command(
    "import",
    short_help="Import record files and folders of them.",
    epilog=examples(
        "archive import data/",
        "archive import data/ --strict",
        "archive --db news.db import data/ --workers 0 --quiet",
        "archive import - < data/example_05_minimal-weburl-only.md",
        "archive import --git news.bundle --git-path _news",
    ),
)
@click.argument("paths", nargs=-1, metavar="PATH...", shell_complete=complete_files)
@click.option(
    "--git",
    "git_repository",
    metavar="REPO",
    shell_complete=complete_files,
    help="Import the history of a git repository (working copy, bare, or bundle) instead:"
    " each first-parent commit of HEAD, oldest first, as versions of its files.",
)
@click.option(
    "--git-path",
    metavar="FOLDER",
    default=None,
    help="With --git: only the record files under this folder of the repository.",
)
@click.option("--strict", is_flag=True, help="Stop at the first bad file and write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--max-file-size",
    # A record is read whole into memory and parsed: a gigabyte is past any record.
    type=Number(0.001, MAX_FILE_SIZE_MB, whole=False),
    default=10.0,
    show_default=True,
    metavar="MB",
    help=f"Reject record files larger than this (at most {MAX_FILE_SIZE_MB:,}).",
)
@click.option(
    "--workers",
    type=Number(0),
    default=None,
    metavar="N",
    help="Parser processes beside the writer (default: one per core but the writer's,"
    " at least 1, at most 4; 0 parses in this process).",
)
@click.option(
    "--commit-every",
    type=Number(1),
    default=None,
    metavar="FILES",
    help="Commit after this many files (default 5,000; also after 5 seconds). Smaller"
    " lets readers and other imports see progress sooner; larger imports faster.",
)
@click.option(
    "--no-stories",
    is_flag=True,
    help="Do not group copies into stories while importing (faster; `archive stories"
    " --missing` groups them later).",
)
@click.pass_context
def import_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    strict: bool,
    quiet: bool,
    max_file_size: float,
    workers: int | None,
    commit_every: int | None,
    git_repository: str | None,
    git_path: str | None,
    no_stories: bool,
) -> None:
    """Import record files and folders of them (- reads one record from stdin).

    Folders are walked recursively for .md, .txt, .yaml and .yml files (hidden
    ones skipped). Importing the same files again changes nothing; a changed file
    updates its article. With --git, a repository's history: a commit's deleted
    files mark their articles removed, and a second run reads only new commits.

    Exit status: 0 all files imported, 1 some files rejected, 2 usage error, 3 the
    schema is out of date (archive db upgrade), 4 the archive stayed busy, 5 it
    cannot be opened or written, 130 interrupted.
    """
    from ..ingest.importer import Importer, StrictAbort
    from ..store import opening

    _check_sources(paths, git_repository, git_path)
    archive = opening.open_archive(db_location(ctx))
    try:
        importer = Importer(
            archive,
            strict=strict,
            workers=workers,
            max_file_bytes=int(max_file_size * 1024 * 1024),
            commit_files=commit_every,
            stories=not no_stories,
        )
        with _Interrupts(importer) as interrupts:
            try:
                summary = _run(interrupts, paths, git_repository, git_path, quiet)
            except KeyboardInterrupt:
                _report_interruption(importer.summary)
                ctx.exit(EXIT_INTERRUPTED)
    except StrictAbort as exc:
        raise ArchiveError(str(exc)) from None
    finally:
        archive.close()
    if not quiet:
        _report_summary(summary, paths, git_repository)
    if summary.interrupted:
        _report_interruption(summary)
        ctx.exit(EXIT_INTERRUPTED)
    ctx.exit(summary.exit_code)


def _run(
    interrupts: _Interrupts,
    paths: tuple[str, ...],
    git_repository: str | None,
    git_path: str | None,
    quiet: bool,
) -> ImportSummary:
    from ..ingest.files import STDIN

    if git_repository is not None:
        return interrupts.run_git(git_repository, git_path, quiet)
    if _show_progress(quiet) and STDIN not in paths:
        return _import_with_progress(interrupts.importer, paths, interrupts)
    return interrupts.run(paths, on_error=lambda e: click.echo(f"rejected: {e}", err=True))


def _check_sources(
    paths: tuple[str, ...], git_repository: str | None, git_path: str | None
) -> None:
    # Not from archive.api, which loads the query layer (0.05 s) an import never uses.
    from ..ingest.files import STDIN, missing_path

    if git_repository is not None:
        if paths:
            raise click.UsageError("give either PATH... or --git REPO, not both")
    elif not paths:
        raise click.UsageError("missing PATH... (or --git REPO)")
    elif git_path is not None:
        raise click.UsageError("--git-path needs --git REPO")
    if paths.count(STDIN) > 1:
        raise click.UsageError("- (stdin) can be given only once")
    # Before the archive is opened: a mistyped path must not leave a new, empty
    # archive behind.
    missing = missing_path([*paths, git_repository or "."])
    if missing is not None:
        raise UsageError(f"{printable(missing)}: no such file or directory")


def _report_summary(
    summary: ImportSummary, paths: tuple[str, ...], git_repository: str | None
) -> None:
    from ..ingest.files import RECORD_SUFFIXES

    click.echo(_format_summary(summary, pairs=3 if sys.stderr.isatty() else 0), err=True)
    if git_repository is not None and summary.commits == 0 and not summary.interrupted:
        click.echo(f"note: no new commits in {git_repository} since its last import", err=True)
    elif summary.files_seen == 0 and not summary.interrupted:
        click.echo(
            f"note: no record files in {', '.join(map(printable, paths))} (folders are searched for"
            f" {', '.join(RECORD_SUFFIXES)} files; hidden ones are skipped)",
            err=True,
        )


class _Interrupts:
    """Ctrl-C during an import: the first stops it after the files in hand (keeping
    everything written, then building the indexes a first import defers); a second
    stops at once, rolling back only the files not yet committed."""

    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.presses = 0
        self.importing = False
        self.display: ImportProgress | None = None
        self.previous: Any = None

    def __enter__(self) -> _Interrupts:
        # Only the main thread may set a handler (the CLI can run in another, in tests).
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._pressed)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.importing = False
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def run(self, paths: tuple[str, ...], **events: Any) -> ImportSummary:
        # Before this (finding files), Ctrl-C simply stops: nothing was written yet.
        self.importing = True
        return self.importer.run(paths, **events)

    def run_git(self, repository: str, folder: str | None, quiet: bool) -> ImportSummary:
        from ..ingest.gitimport import import_git

        def on_commit(done: int, total: int) -> None:
            if _show_progress(quiet):
                click.echo(f"\rcommits: {done:,} of {total:,}", err=True, nl=done == total)

        self.importing = True
        return import_git(
            self.importer,
            repository,
            folder,
            on_commit=on_commit,
            on_error=lambda e: click.echo(f"rejected: {e}", err=True),
        )

    def _pressed(self, _signum: int, _frame: object) -> None:
        self.presses += 1
        if self.presses > 1 or not self.importing:
            self.importer.abort()
            raise KeyboardInterrupt
        self.importer.request_stop()
        if self.display is not None:
            # Printed at the next redraw: this handler may have interrupted one.
            self.display.stopping()
            self.display.note_later(
                "stopping: finishing the files in hand; everything imported so far is kept"
                " (Ctrl-C again stops at once)"
            )

    def on_stage(self, label: str) -> None:
        if self.presses == 1 and label == "Building indexes" and self.display is not None:
            self.display.note_later(
                "press Ctrl-C again to skip building indexes; the next import builds them"
            )


def _import_with_progress(
    importer: Importer, paths: tuple[str, ...], interrupts: _Interrupts
) -> ImportSummary:
    from ..ingest.files import find_record_files
    from .progress import ImportProgress

    with ImportProgress() as display:
        interrupts.display = display

        def on_stage(label: str) -> None:
            interrupts.on_stage(label)
            display.stage(label)

        # Counted up front for the total; a folder of millions takes a while to walk.
        display.start(display.count_files(find_record_files(paths)))
        summary = interrupts.run(
            paths,
            on_file=lambda _path: display.file_done(importer.summary.unchanged),
            on_error=lambda e: display.message(f"rejected: {e}"),
            on_stage=on_stage,
            on_wait=display.waiting,
        )
        display.finish()
    return summary


def _report_interruption(summary: ImportSummary) -> None:
    files = "file" if summary.saved == 1 else "files"
    click.echo(
        f"interrupted: {summary.saved:,} {files} saved; run the same import again to finish",
        err=True,
    )
    if summary.indexes_pending:
        click.echo(
            "note: the query indexes were not built (queries are slower until then);"
            " the next import builds them",
            err=True,
        )


def _format_summary(s: ImportSummary, *, pairs: int = 0) -> str:
    """The import summary; on a terminal it also names the first few merged files."""
    lines = [
        f"files: {s.files_seen} seen, {s.new} new, {s.updated} updated, "
        f"{s.unchanged} unchanged, {s.rejected} rejected",
        f"added: {s.articles_added} articles, {s.providers_added} providers, "
        f"{s.topics_added} topics, {s.images_added} images",
    ]
    if s.copies:
        lines.append(
            f"copies: {s.copies} new {'file has' if s.copies == 1 else 'files have'} the"
            " bytes of an earlier file (each path is kept)"
        )
        lines += [f"  {path} copy of {other}" for path, other in s.copied_pairs[:pairs]]
        if s.copies > pairs > 0:
            lines.append(f"  ... and {s.copies - pairs} more")
    if s.commits:
        lines.append(f"git: {s.commits} commits")
    if s.removed:
        lines.append(f"removed: {s.removed} deleted files (their articles are kept)")
    if s.merged:
        lines.append(
            f"merged: {s.merged} {'file describes' if s.merged == 1 else 'files describe'}"
            " an article that another file also describes (all are kept; the last imported"
            " is shown)"
        )
        lines += [
            f"  {printable(path)} after {printable(other)}"
            for path, other in s.merged_pairs[:pairs]
        ]
        if s.merged > pairs > 0:
            lines.append(f"  ... and {s.merged - pairs} more")
    for reason, (path, count) in s.skipped.items():
        more = f" (and {count - 1} more like it)" if count > 1 else ""
        lines.append(f"note: skipped {printable(path)}: {reason}{more}")
    return "\n".join(lines)
