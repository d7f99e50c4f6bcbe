"""Where an archive is, as SQLAlchemy reads it: a SQLite file or a PostgreSQL URL.

Only these two engines: the archive's schema and queries are written for them.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from ..errors import ArchiveUnavailable
from .location import is_url, open_mode, shown

POSTGRES_DRIVER_HINT = "install the PostgreSQL driver: pip install 'archive[postgres]'"


def to_url(location: str) -> URL:
    """A SQLAlchemy URL for a location (see location.is_url).

    `postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy's own default for
    a bare `postgresql://` is psycopg2, which archive does not depend on).
    """
    if not is_url(location):
        return URL.create("sqlite+pysqlite", database=location)
    try:
        url = make_url(location)
    except Exception as exc:  # ArgumentError, ValueError: a URL SQLAlchemy cannot parse
        raise ArchiveUnavailable(f"cannot read the database URL {shown(location)}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        # SQLAlchemy would load any dialect it knows, and fail later or half-way:
        # the archive's schema and queries are written for these two.
        raise ArchiveUnavailable(
            f"cannot open {shown(location)}: an archive is a SQLite file or a PostgreSQL"
            f" database (postgresql://...), not {url.get_backend_name()}"
        )
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def sqlite_file(url: URL) -> str | None:
    """The file of a SQLite archive (None: PostgreSQL, or SQLite in memory)."""
    if is_sqlite(url) and url.database and url.database != ":memory:":
        return url.database
    return None


def file_mode(url: URL, *, create: bool = False, write: bool = False) -> str:
    """location.open_mode for a SQLite file; "rw" for anything else."""
    path = sqlite_file(url)
    return open_mode(path, create=create, write=write) if path else "rw"


def require_driver(url: URL) -> None:
    """One line saying what to install, instead of a ModuleNotFoundError traceback."""
    if url.get_driver_name() != "psycopg":
        if is_postgres(url):
            raise ArchiveUnavailable(
                f"archive talks to PostgreSQL through psycopg (postgresql://...), not"
                f" {url.get_driver_name()}"
            )
        return
    from importlib.util import find_spec

    if find_spec("psycopg") is None:
        raise ArchiveUnavailable(POSTGRES_DRIVER_HINT)
    try:  # one that is there but broken: the engine would import it next anyway
        import psycopg  # noqa: F401
    except ImportError:
        raise ArchiveUnavailable(POSTGRES_DRIVER_HINT) from None
