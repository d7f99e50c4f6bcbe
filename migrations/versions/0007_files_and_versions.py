"""Every file and every version: collections, file identity, git versions, aliases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

A file is now (collection, path inside it): the folder given to `archive import` or
a git repository. Each source_file row is one version of a file; git versions carry
their commit and its time, and a deleted file's last version its removal time. An
article whose file is deleted is marked removed (kept). An address an article had
before its file changed it stays in article_url as an alias.

Rows imported before this revision keep collection_id and rel_path NULL: which
folder was given then is not known. Re-importing the same paths finds them by
`path` (ingest/changes.py), so nothing is imported twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("last_commit", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection")),
        sa.UniqueConstraint("key", name=op.f("uq_collection_key")),
    )
    # Columns added in place: rebuilding source_file would copy every file's text, and
    # rebuilding article would drop the views and triggers on it.
    if _sqlite():
        # SQLite adds a column with a foreign key only inline.
        op.execute(
            "ALTER TABLE source_file ADD COLUMN collection_id INTEGER CONSTRAINT"
            " fk_source_file_collection_id_collection REFERENCES collection (id)"
        )
    else:
        op.add_column("source_file", sa.Column("collection_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_source_file_collection_id_collection",
            "source_file",
            "collection",
            ["collection_id"],
            ["id"],
        )
    op.add_column("source_file", sa.Column("rel_path", sa.Text(), nullable=True))
    op.add_column("source_file", sa.Column("commit_id", sa.String(), nullable=True))
    for table, column in _TIMESTAMPS:
        op.add_column(table, sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_article_removed_at", "article", ["removed_at"])
    op.create_index(
        "ix_source_file_collection_id_rel_path_id",
        "source_file",
        ["collection_id", "rel_path", "id", "sha256", "article_id", "removed_at"],
    )
    op.add_column(
        "article_url", sa.Column("alias", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


_TIMESTAMPS = (
    ("source_file", "committed_at"),
    ("source_file", "removed_at"),
    ("article", "removed_at"),
)


def downgrade() -> None:
    op.drop_index("ix_article_removed_at", table_name="article")
    op.drop_index("ix_source_file_collection_id_rel_path_id", table_name="source_file")
    if not _sqlite():
        op.drop_constraint(
            "fk_source_file_collection_id_collection", "source_file", type_="foreignkey"
        )
    for table, column in (
        ("article_url", "alias"),
        *_TIMESTAMPS,
        ("source_file", "commit_id"),
        ("source_file", "rel_path"),
        ("source_file", "collection_id"),
    ):
        if _sqlite():
            # In place (SQLite 3.35+), so the views and triggers on these tables survive.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
    op.drop_table("collection")
