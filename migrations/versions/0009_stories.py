"""Stories: syndicated and near-duplicate articles grouped (story, article_story, story_band)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08

The tables start empty: clustering needs the importer's text normalization and
MinHash (archive/stories), which a migration should not run over a million
articles inside the upgrade's transaction. An upgraded archive gets its stories
from one `archive stories --rebuild` (resumable); until then `--by-story` counts
each article without a story as a story of its own, and says so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin_article_id", sa.Integer(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("providers", sa.Integer(), nullable=False),
        sa.Column("first_published", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["origin_article_id"], ["article.id"], name="fk_story_origin_article_id_article"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_story"),
    )
    op.create_table(
        "article_story",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("title_key", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name="fk_article_story_article_id_article",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["story_id"], ["story.id"], name="fk_article_story_story_id_story"),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_story"),
    )  # fmt: skip
    op.create_index("ix_article_story_story_id", "article_story", ["story_id"])
    op.create_table(
        "story_band",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name="fk_story_band_article_id_article",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "article_id", name="pk_story_band"),
    )  # fmt: skip
    op.create_index("ix_story_band_article_id", "story_band", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_story_band_article_id", table_name="story_band")
    op.drop_table("story_band")
    op.drop_index("ix_article_story_story_id", table_name="article_story")
    op.drop_table("article_story")
    op.drop_table("story")
