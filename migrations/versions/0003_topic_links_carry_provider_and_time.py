"""Topic links carry the article's provider and publication time; article indexes for queries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Providers by topic, topics by provider and timelines by topic become index-only
scans of article_topic instead of one article lookup per link (see the model).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_provider_id_published_at")
        batch_op.drop_index("ix_article_published_at")
        batch_op.create_index(
            "ix_article_is_stub_provider_id_published_at",
            ["is_stub", "provider_id", "published_at"],
        )
        batch_op.create_index("ix_article_is_stub_published_at", ["is_stub", "published_at"])
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute(
        "UPDATE article_topic SET"
        " provider_id = (SELECT a.provider_id FROM article a WHERE a.id = article_topic.article_id),"
        " published_at = (SELECT a.published_at FROM article a WHERE a.id = article_topic.article_id)"
    )
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_topic_id_article_id")
        batch_op.create_index(
            "ix_article_topic_provider_id_topic_id_published_at",
            ["provider_id", "topic_id", "published_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_article_topic_topic_id_provider_id_published_at_article_id",
            ["topic_id", "provider_id", "published_at", "article_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_is_stub_published_at")
        batch_op.drop_index("ix_article_is_stub_provider_id_published_at")
        batch_op.create_index("ix_article_published_at", ["published_at"])
        batch_op.create_index(
            "ix_article_provider_id_published_at", ["provider_id", "published_at"]
        )
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_topic_id_provider_id_published_at_article_id")
        batch_op.drop_index("ix_article_topic_provider_id_topic_id_published_at")
        batch_op.create_index(
            "ix_article_topic_topic_id_article_id", ["topic_id", "article_id"], unique=False
        )
    # SQLite drops columns in place (3.35+), so the views on this table survive.
    op.execute("ALTER TABLE article_topic DROP COLUMN published_at")
    op.execute("ALTER TABLE article_topic DROP COLUMN provider_id")
