"""Schema objects (views, triggers, search tables) as versioned SQL files.

Alembic's "replaceable objects" recipe, simplified: each object's CREATE
statement is written once, in migrations/objects/<name>.<revision>[.<dialect>].sql,
where <revision> is the migration that introduced that text. A migration names
the version it creates (and, going down, the version it restores), so old
migrations replay the same text forever and changing a view is a new file and a
new migration. A file without a dialect serves both engines.

Migrations load this module by path (migrations/versions/*.py: `_support`), not
by import: installed, migrations/ is archive._migrations, in a checkout it is a
top-level folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OBJECTS = Path(__file__).resolve().parent.parent / "objects"


def path(name: str, revision: str, dialect: str) -> Path:
    """The file holding version `revision` of `name` for `dialect`."""
    candidates = (OBJECTS / f"{name}.{revision}.{dialect}.sql", OBJECTS / f"{name}.{revision}.sql")
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no version {revision} of {name} for {dialect} in {OBJECTS}")


def sql(name: str, revision: str, dialect: str) -> str:
    """The CREATE statement, as the file has it (without the final newline)."""
    return path(name, revision, dialect).read_text(encoding="utf-8").rstrip("\n")


def create(op: Any, name: str, revision: str) -> None:
    """Create version `revision` of `name` on the migration's connection."""
    op.execute(sql(name, revision, op.get_bind().dialect.name))


def drop(op: Any, kind: str, name: str) -> None:
    """Drop `name` (kind: VIEW, TRIGGER, TABLE) if it is there."""
    op.execute(f"DROP {kind} IF EXISTS {name}")
