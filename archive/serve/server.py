"""Open an archive in Datasette without ever writing it, and serve it.

Two read-only ways to open the file, chosen as every reader chooses
(location.open_mode, which refuses a read that could see an import half-written):
- `mode=ro` (Datasette's "mutable" database, which it opens read-only unless a
  plugin asks to write; ours never does). SQLite reads the WAL through its -shm
  file, so the pages show every committed import, also one that runs while the
  server does. One connection stays open for the server's life, so that the
  -wal/-shm files stay too: an import that ends cannot remove them under us.
- `immutable=1` (Datasette's `-i`) for a frozen archive, which nobody can change:
  no write permission bit on the file or its folder, or a read-only mount.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from ..errors import ArchiveError, ArchiveUnavailable
from ..store import location
from ..store.location import is_url, open_mode, sidecars_exist
from ..store.schema_version import HEAD_REVISION, check_revision

# Faceting a view computes its columns for every row, and a large archive has
# hundreds of thousands of rows: a facet that cannot finish in half a second (the
# topics of every article of a 100,000-record archive) is reported as timed out
# rather than holding the page, and facet suggestions are off, since they try every
# column on every page view and would cost each page that much again.
SETTINGS: dict[str, Any] = {
    "facet_time_limit_ms": 500,
    "suggest_facets": False,
}


def archive_path(location: str) -> Path:
    """The archive file behind --db, checked: an existing SQLite archive at the schema
    revision this version needs (else one-line errors, as the other commands give)."""
    if is_url(location):
        from ..store.database import to_url  # SQLAlchemy loads only for a URL

        url = to_url(location)
        if url.get_backend_name() != "sqlite" or not url.database:
            raise ArchiveUnavailable("archive serve works on SQLite archives only")
        location = url.database
    path = Path(location)
    open_mode(location)  # refuses, in words, a missing file, a folder, a file not SQLite
    existed = sidecars_exist(path)
    revision = _revision(path)
    if not existed:
        tidy_sidecars(path)
    if revision != HEAD_REVISION:
        from ..store.database import _known_revisions  # Alembic loads only for an old archive

        check_revision(
            location, revision or None, _known_revisions, empty_version_table=revision == ""
        )
    return path


def opens_immutable(path: Path) -> bool:
    """Whether the archive at `path` is frozen, so read `immutable=1` (see the
    module's docstring); raises location.UnsafeRead where it cannot be read safely."""
    return open_mode(str(path)) == "immutable"


def _uri(path: Path) -> str:
    mode = "immutable=1" if opens_immutable(path) else "mode=ro"
    # as_uri() percent-encodes the path, so "?" or "#" in a file name stay a name.
    return f"{path.resolve().as_uri()}?{mode}"


def _revision(path: Path) -> str | None:
    """The schema revision; "" for an empty version table, None for none."""
    try:
        connection = sqlite3.connect(_uri(path), uri=True)
        try:
            if not connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone():
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY_"):
            raise location.unsafe_read(path) from None  # its -shm went away meanwhile
        raise ArchiveUnavailable(f"cannot open {path} read-only: {exc}") from None
    return row[0] if row else ""


def datasette_for(path: Path, *, metadata: dict[str, Any] | None = None) -> Any:
    """A Datasette instance serving the archive at `path` read-only, with the plugin."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from . import plugin
    from .limits import QueryLimits, limited
    from .plugin import refusals

    if not pm.is_registered(plugin):
        # The entry point loads it in an installed environment; this covers the
        # rest (a test run that disabled entry points, a source checkout).
        pm.register(plugin, name="archive")
    if pm.get_plugin(refusals.DEFAULT_HANDLER) is not None:
        pm.unregister(name=refusals.DEFAULT_HANDLER)  # ours says it in one line
    if metadata is None:
        from .metadata import metadata as make_metadata

        metadata = make_metadata(path.stem)
    uri = _uri(path)
    immutable = "immutable=1" in uri

    class ReadOnlyDatabase(QueryLimits, Database):  # type: ignore[misc]
        """Datasette's database, minus its one way to write: a plugin may ask any
        "mutable" database for a write connection; this one refuses it. Reads use
        the URI above (percent-encoded, unlike Datasette's own), under the limits
        of limits.py."""

        def connect(self, write: bool = False) -> sqlite3.Connection:
            if write:
                raise PermissionError("archive serve never writes to the archive")
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._all_file_connections.append(connection)
            return limited(connection)

    datasette = Datasette(metadata=metadata, settings=SETTINGS, cors=False)
    datasette.remove_database("_memory")  # Datasette adds it when given no file
    database = ReadOnlyDatabase(datasette, path=str(path), is_mutable=not immutable)
    if not immutable:
        # Held until the server stops (Datasette closes it with the others): the
        # -wal/-shm files the later connections read through stay while it is open.
        database.connect().execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    datasette.add_database(database, name=path.stem)
    return datasette


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line error (port in use, no such address)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ArchiveError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == 98 else exc.strerror
        raise ArchiveError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def run(
    datasette: Any,
    sock: socket.socket,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then close the archive."""
    import uvicorn

    from ..store.sqlite_limits import limit_process_heap

    limit_process_heap()  # this process only serves: SQLite's memory is capped
    # Datasette's app runs its startup (and the plugins') on the first request.
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if on_ready is not None and not self.should_exit:
                on_ready(url)

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            # uvicorn raises the signal again once it has shut down, which ends the
            # process before the caller tidies up; here Ctrl-C or SIGTERM is the
            # normal way to stop, and ends with status 0.
            captured = getattr(self, "_captured_signals", None)
            if captured:
                captured.clear()

    config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on")
    try:
        Server(config).run(sockets=[sock])
    finally:
        for database in datasette.databases.values():
            database.close()
        sock.close()


def datasette_command(path: Path, metadata_file: str) -> str:
    """The `datasette` command line that serves `path` as `archive serve` does."""
    import shlex

    parts = ["datasette", "serve", "-i" if opens_immutable(path) else "", str(path)]
    parts += ["-m", metadata_file]
    for name, value in SETTINGS.items():
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        parts += ["--setting", name, shown]
    return " ".join(shlex.quote(part) for part in parts if part)


def tidy_sidecars(path: Path) -> None:
    """Remove the -wal/-shm files our read-only connections left (none when the
    archive is read immutable)."""
    with suppress(ArchiveUnavailable):
        if not opens_immutable(path):
            location.tidy_sidecars(path)
