"""PostgreSQL roles: `db grant-reader`, a role that may read the archive and nothing more."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..errors import ArchiveError
from .failures import one_line
from .location import resolve_location, shown
from .urls import is_postgres, to_url


def grant_reader(
    engines: Callable[..., Engine], location: str | None, role: str, *, login: bool = True
) -> bool:
    """Let `role` read the PostgreSQL archive and nothing more: CONNECT on the
    database, USAGE on its schema, SELECT on its tables and views (also those later
    migrations add). Creates the role if missing; returns whether it did.
    `engines`: store.database.create_archive_engine (database imports this module)."""
    location = resolve_location(location)
    if not is_postgres(to_url(location)):
        raise ArchiveError("db grant-reader is for PostgreSQL archives (SQLite has no roles)")
    engine = engines(location)
    try:
        with engine.connect() as connection, connection.begin():
            quote = connection.dialect.identifier_preparer.quote
            row = connection.exec_driver_sql(
                "SELECT rolsuper FROM pg_roles WHERE rolname = %(role)s", {"role": role}
            ).first()
            if row is not None and row[0]:
                raise ArchiveError(f"role {role} is a superuser: a reader must be an ordinary role")
            name = quote(role)
            if row is None:
                connection.exec_driver_sql(f"CREATE ROLE {name} {'LOGIN' if login else 'NOLOGIN'}")
            database = quote(connection.exec_driver_sql("SELECT current_database()").scalar())
            schema = quote(connection.exec_driver_sql("SELECT current_schema()").scalar())
            for statement in (
                f"GRANT CONNECT ON DATABASE {database} TO {name}",
                f"GRANT USAGE ON SCHEMA {schema} TO {name}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
                # Tables and views that later migrations (run by this role) create.
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}",
            ):
                connection.exec_driver_sql(statement)
            return row is None
    except (OperationalError, ProgrammingError) as exc:
        raise ArchiveError(f"cannot grant on {shown(location)}: {one_line(exc)}") from exc
    finally:
        engine.dispose()
