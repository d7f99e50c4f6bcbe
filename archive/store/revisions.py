"""The schema's revisions: Alembic's scripts, and the revision an archive is at.

Alembic loads only when it is needed (a schema change, an old archive); reading
the current revision is plain SQL.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from .location import shown
from .urls import to_url


def migrations_folder() -> str:
    """The Alembic scripts: inside the installed package (pip install puts them at
    archive/_migrations), or, run from a source checkout without installing
    (`python -m archive` in the repository), the repository's migrations/."""
    try:
        return str(resources.files("archive._migrations"))
    except ModuleNotFoundError:
        return str(Path(__file__).resolve().parents[2] / "migrations")


def alembic_config(connection: Connection | None = None, location: str | None = None) -> Any:
    from alembic.config import Config  # Alembic loads only when the schema changes

    config = Config()
    config.set_main_option("script_location", migrations_folder())
    if location is not None:
        config.set_main_option("sqlalchemy.url", to_url(location).render_as_string(False))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def alembic_head_revision() -> str | None:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


def history() -> list[tuple[str, str]]:
    """(revision, description) of every revision, newest first."""
    return [(rev.revision, rev.doc or "") for rev in _scripts().walk_revisions()]


def current_revision(connection: Connection) -> str | None:
    """The archive's schema revision (Alembic's version table), read with plain SQL."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    try:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except (OperationalError, ProgrammingError):
        return None


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


class SchemaChange:
    """What `db upgrade` or `db downgrade` did."""

    def __init__(
        self,
        location: str,
        revision: str | None,
        backup: str | None,
        notice: str | None = None,
        *,
        unchanged: bool = False,
    ) -> None:
        self.location = shown(location)
        self.revision = revision
        self.backup = backup
        # The archive was at the target already: nothing was done, nothing backed up.
        self.unchanged = unchanged
        # Said to the user when no backup could be made (PostgreSQL without pg_dump).
        self.notice = notice
