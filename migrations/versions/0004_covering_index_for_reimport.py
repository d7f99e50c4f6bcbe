"""Covering index on source_file for re-import checks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Deciding whether a file is unchanged reads each path's latest hash; with the
path index alone that read the wide rows (each holds the file's text).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_file", schema=None) as batch_op:
        batch_op.drop_index("ix_source_file_path")
        batch_op.create_index(
            "ix_source_file_path_id_sha256", ["path", "id", "sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("source_file", schema=None) as batch_op:
        batch_op.drop_index("ix_source_file_path_id_sha256")
        batch_op.create_index("ix_source_file_path", ["path"], unique=False)
