"""The library: what `from archive import ...` gives (docs/library.md).

One module above ingest, query and output, so that a program (and the CLI, which
calls these functions too) asks the same questions the same way. Reading needs no
SQLAlchemy: this module imports it only inside the functions that write
(open_archive, import_files, import_git), so that `archive providers ...` starts
as fast as it did.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from .errors import OutputError, UsageError
from .messages import printable
from .output.formats import write
from .query import queries
from .query import reader as _reader
from .query.dump import DumpResult
from .query.filters import SEARCH_LIMIT, Filters
from .query.reader import Reader
from .query.readonly_sql import DEFAULT_TIMEOUT, open_query
from .query.sql_text import checked_sql
from .rows import OutputOptions, Rows
from .store.location import archive_files

if TYPE_CHECKING:
    from .ingest.importer import Importer
    from .ingest.summary import ImportSummary
    from .store.database import Archive

# Where an archive is: a SQLite file's path or a PostgreSQL URL.
Location = str | os.PathLike[str]
MAX_FILE_MB = 10.0  # import's default --max-file-size


def _location(location: Location) -> str:
    return os.fspath(location)


# --- writing: create, import -------------------------------------------------------


def open_archive(location: Location, *, create: bool = True) -> Archive:
    """Open the archive at `location` to write it; with `create`, make it if it is new.

    Raises SchemaOutOfDate when it is at an older revision (`archive db upgrade`),
    ArchiveUnavailable when it cannot be opened. Close it with `.close()`.
    """
    from .store.database import open_archive as open_database

    return open_database(_location(location), create=create)


def missing_path(paths: Iterable[str]) -> str | None:
    """The first of `paths` that does not exist (`-` is stdin), or None."""
    from .ingest.files import missing_path as first_missing

    return first_missing(paths)


@contextmanager
def _importer(archive: Archive | Location, options: Mapping[str, Any]) -> Iterator[Importer]:
    from .ingest.importer import Importer
    from .store.database import Archive

    opened = None if isinstance(archive, Archive) else open_archive(archive)
    try:
        yield Importer(opened or archive, **options)  # type: ignore[arg-type]
    finally:
        if opened is not None:
            opened.close()


def _import_options(
    strict: bool, workers: int | None, max_file_mb: float, commit_every: int | None, stories: bool
) -> dict[str, Any]:
    return {
        "strict": strict,
        "workers": workers,
        "max_file_bytes": int(max_file_mb * 1024 * 1024),
        "commit_files": commit_every,
        "stories": stories,
    }


def import_files(
    archive: Archive | Location,
    paths: Iterable[Location],
    *,
    strict: bool = False,
    workers: int | None = None,
    max_file_mb: float = MAX_FILE_MB,
    commit_every: int | None = None,
    stories: bool = True,
    on_error: Callable[[Exception], None] | None = None,
) -> ImportSummary:
    """Import record files and folders of them (walked for .md, .txt, .yaml, .yml)
    into `archive` (an open Archive, or a location, created if new).

    A bad file is counted in the summary (`rejected`, `errors`) and given to
    `on_error`; with `strict`, the first one stops the import, writing nothing, with
    an ArchiveError. `workers=0` parses in this process. Importing the same files
    again changes nothing.
    """
    names = [_location(path) for path in paths]
    missing = missing_path(names)
    if missing is not None:  # before the archive is opened: no empty archive left behind
        raise UsageError(f"{printable(missing)}: no such file or directory")
    options = _import_options(strict, workers, max_file_mb, commit_every, stories)
    with _importer(archive, options) as importer:
        return importer.run(names, on_error=on_error)


def import_git(
    archive: Archive | Location,
    repository: Location,
    *,
    folder: str | None = None,
    strict: bool = False,
    workers: int | None = None,
    max_file_mb: float = MAX_FILE_MB,
    stories: bool = True,
    on_error: Callable[[Exception], None] | None = None,
) -> ImportSummary:
    """Import a git repository's history (working copy, bare, or bundle): each
    first-parent commit of HEAD, oldest first, as versions of its files; only those
    under `folder` if given. A second run reads only the new commits."""
    from .ingest.gitimport import import_git as import_history

    where = _location(repository)
    if missing_path([where]) is not None:
        raise UsageError(f"{printable(where)}: no such file or directory")
    options = _import_options(strict, workers, max_file_mb, None, stories)
    with _importer(archive, options) as importer:
        return import_history(importer, where, folder, on_error=on_error)


# --- the questions -------------------------------------------------------------------


def open_reader(location: Location | None = None) -> Reader:
    """Open the archive at `location` read-only, to ask it questions (a context
    manager: `with open_reader("news.db") as reader:`). None: $ARCHIVE_DB, else
    archive.db. Loads no SQLAlchemy; refuses an archive whose schema is not current."""
    return _reader.open_reader(None if location is None else _location(location))


def _stories() -> Any:
    from .query import stories

    return stories


def providers(
    reader: Reader,
    filters: Filters | None = None,
    *,
    include_related: bool = False,
    by_story: bool = False,
) -> Rows:
    """Providers by number of articles (name, domain, articles, first, last, share).

    `include_related` also counts the articles these link to; `by_story` counts
    stories instead (columns first and copies), own records only.
    """
    filters = filters or Filters()
    if by_story and include_related:
        raise UsageError("--by-story counts own records only: leave out --include-related")
    if by_story:
        return _stories().providers(reader, filters)
    return queries.providers(reader, filters, include_related=include_related)


def topics(reader: Reader, filters: Filters | None = None, *, by_story: bool = False) -> Rows:
    """Topics by number of articles (or stories), with first and last publication."""
    filters = filters or Filters()
    if by_story:
        return _stories().topics(reader, filters)
    return queries.topics(reader, filters)


def cooccur(
    reader: Reader, topic: str, filters: Filters | None = None, *, by_story: bool = False
) -> Rows:
    """Topics on the same articles as `topic`, with their number and share.

    The filters' own topics are not used: `topic` is the one asked about.
    """
    filters = filters or Filters()
    if by_story:
        return _stories().cooccur(reader, topic, filters)
    return queries.cooccur(reader, topic, filters)


def timeline(
    reader: Reader,
    filters: Filters | None = None,
    *,
    by: str = "month",
    compare: bool = False,
    by_story: bool = False,
) -> Rows:
    """Articles per period (`by`: day, week, month, year), empty periods too, and
    their share of all articles then. `compare`: one series per topic (or provider)
    of the filters. `by_story`: stories, each in the period of its first article."""
    filters = filters or Filters()
    if compare and filters.needs_every_topic():
        raise UsageError("--compare and --all-topics do not go together: compare each topic")
    if compare and not (filters.topics or filters.providers):
        raise UsageError("--compare needs series to compare: e.g. --topic AI --topic Privacy")
    if by_story:
        if compare:
            raise UsageError("--compare counts articles: run it without --by-story")
        return _stories().timeline(reader, filters, by=by)
    return queries.timeline(reader, filters, by=by, compare=compare)


def articles(
    reader: Reader,
    filters: Filters | None = None,
    *,
    type_: str | None = None,
    min_quality: int | None = None,
    search: str | None = None,
    include_stubs: bool = False,
    include_removed: bool = False,
) -> Rows:
    """Articles, newest first, with provider and topics. `search` narrows them by a
    full-text search (as `search`); stubs (known only from related entries) and
    removed articles (their file deleted in git) only when asked for."""
    return queries.articles(
        reader,
        filters or Filters(),
        type_=type_,
        min_quality=min_quality,
        search=search,
        include_stubs=include_stubs,
        include_removed=include_removed,
    )


def search(
    reader: Reader, text: str, filters: Filters | None = None, *, limit: int | None = SEARCH_LIMIT
) -> Rows:
    """Full-text search in titles, excerpts and bodies, best matches first: words,
    "phrases", OR, -word, prefix*, topic:, provider:, since:, until:, type:.
    At most `limit` rows (None: all)."""
    if not text.strip():
        raise UsageError("no search text given: e.g. archive search facial recognition")
    return queries.search(reader, text, filters or Filters(), limit=limit)


def related(reader: Reader, url: str) -> Rows:
    """The articles `url` links to as related, and those that link to it."""
    return queries.related(reader, url)


def show(reader: Reader, url: str, *, files: bool = False) -> Rows:
    """One article in full, as (field, value) rows; `rows.record` holds it as one
    dict. `files` lists every other file describing it (default: the first 3)."""
    return queries.show(reader, url, files=files)


def history(
    reader: Reader, url: str, *, fields: Sequence[str] = (), hide_signature: bool = False
) -> Rows:
    """The versions of `url`'s article, newest first: time, status, path, commit and
    the record keys each changed. `fields`: only versions that changed these."""
    from .query.history import history as versions

    return versions(reader, url, fields=fields, hide_signature=hide_signature)


def stats(reader: Reader) -> Rows:
    """Rows per table, date range, database size (SQLite) and schema revision."""
    return queries.stats(reader)


def largest_stories(reader: Reader, filters: Filters | None = None) -> Rows:
    """Stories of more than one article, largest first: copies of one text under
    several providers, with the first publication and every provider's name."""
    return _stories().largest(reader, filters or Filters())


def explain_story(reader: Reader, first_url: str, second_url: str) -> Rows:
    """Why two articles are or are not one story, as (field, value) rows."""
    return _stories().explain(reader, first_url, second_url)


def unknown_names(reader: Reader, filters: Filters) -> list[str]:
    """Notes on the filters' topics and providers the archive does not know, with
    the nearest names: why an answer is empty."""
    return queries.unknown_names(reader, filters)


# --- writing answers out -------------------------------------------------------------


def _options(output: Location | None, format: str | None, kwargs: dict[str, Any]) -> OutputOptions:
    return OutputOptions(
        format=format, output=None if output is None else _location(output), **kwargs
    )


def write_rows(
    rows: Rows,
    output: Location | IO[str] | None = None,
    *,
    format: str | None = None,
    force: bool = False,
    limit: int | None = None,
    headers: bool = True,
    bom: bool = False,
    excel_safe: bool = False,
    columns: Sequence[str] | None = None,
    sort: str | None = None,
) -> int:
    """Write an answer as CSV, TSV, JSON, JSON Lines, Parquet or a table; return the
    number of rows written. `output`: a file path (format from its extension unless
    `format` says; an existing file only with `force`), an open text stream, or
    None for stdout. Options as the CLI's --limit, --no-headers, --bom, --excel-safe,
    --columns and --sort."""
    stream = None if output is None or isinstance(output, (str, os.PathLike)) else output
    path = None if stream is not None else output
    extra = dict(force=force, limit=limit, headers=headers, bom=bom, excel_safe=excel_safe,
                 columns=columns, sort=sort)  # fmt: skip
    options = _options(path, format, extra)  # type: ignore[arg-type]
    if options.output is not None and _is_sqlite_file(options.output):
        # The rows do not say which archive they came from: never replace any.
        options.protected = (options.output,)
    return write(rows, options, stream)


def _is_sqlite_file(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


@contextmanager
def run_sql(
    location: Location,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_superuser: bool = False,
) -> Iterator[Rows]:
    """Run one read-only statement (`archive sql`'s rules: no writes, `:name`
    parameters from `params`, stopped after `timeout` seconds); the rows stream
    while the block runs: `with run_sql("news.db", "SELECT 1") as rows: ...`."""
    checked_sql(sql)
    query = open_query(_location(location), timeout=timeout, allow_superuser=allow_superuser)
    try:
        yield query.run(sql, params or {})
    finally:
        query.close()


def export(
    location: Location,
    name: str | None = None,
    *,
    sql: str | None = None,
    params: Mapping[str, Any] | None = None,
    output: Location | None = None,
    format: str | None = None,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    allow_superuser: bool = False,
    options: OutputOptions | None = None,
) -> int:
    """Export table or view `name`, or the rows of `sql`, to `output` (None: stdout)
    as CSV unless `format` or the file's extension says otherwise; return the number
    of rows. The archive's own files are never written over. `options` (the CLI's)
    replaces output, format and force."""
    from .query.export import export as export_rows

    where = _location(location)
    options = options or _options(output, format, {"force": force})
    if options.format is None and options.output in (None, "-"):
        # Even on a terminal: an export is data, not a table to read.
        options = options.replace(format="csv")
    return export_rows(
        where, name, sql, options, timeout=timeout, allow_superuser=allow_superuser, params=params
    )


def dump(
    location: Location, folder: Location, *, force: bool = False, all_versions: bool = False
) -> DumpResult:
    """Write every archived record back out as its file, exactly as imported, into
    `folder` (with `.archive-order`: importing the folder rebuilds the archive);
    `all_versions` writes every version. Files there are replaced only with `force`."""
    from .query.dump import dump as dump_records

    where, target = _location(location), _location(folder)
    with open_reader(where) as reader:
        try:
            return dump_records(
                reader,
                target,
                force=force,
                all_versions=all_versions,
                protected=archive_files(where),
            )
        except OSError as exc:  # a full disk, a folder made read-only meanwhile, ...
            raise OutputError(f"cannot write to {target}: {exc.strerror or exc}") from None


__all__ = [
    "DumpResult",
    "Filters",
    "Location",
    "Reader",
    "Rows",
    "articles",
    "cooccur",
    "dump",
    "explain_story",
    "export",
    "history",
    "import_files",
    "import_git",
    "largest_stories",
    "missing_path",
    "open_archive",
    "open_reader",
    "providers",
    "related",
    "run_sql",
    "search",
    "show",
    "stats",
    "timeline",
    "topics",
    "unknown_names",
    "write_rows",
]
