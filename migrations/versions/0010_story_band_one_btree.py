"""Stories: story_band as one B-tree, 10 bands of 3 rows; stories grouped again

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08

story_band was a rowid table with its primary key, an index on article_id and a
foreign key to article: three B-trees and a parent lookup for each of the ~17 rows
an article indexed, most of what stories cost an import. It is now keyed as it is
looked up, (key, article_id), WITHOUT ROWID on SQLite, with neither the index nor
the foreign key (archive/store/models.py says why neither is needed).

The band keys changed too (10 bands of 3 signature rows instead of 16 of 4,
archive/stories/minhash.py), so the stored keys mean nothing any more. They cannot
simply be recomputed here: which keys an article is indexed under depends on the
stories already under each key when it was assigned (ingest/stories.py). So the
stories are forgotten, as after `import --no-stories`, and `archive stories
--missing` groups the archive again (resumable); until then `--by-story` counts
each article as a story of its own, and says so. The rules and thresholds did not
change (tests/test_stories.py checks --missing makes the stories an import made).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _forget_stories() -> None:
    for table in ("story_band", "article_story", "story"):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    _forget_stories()
    op.drop_index("ix_story_band_article_id", table_name="story_band")
    op.drop_table("story_band")
    op.create_table(
        "story_band",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name="pk_story_band"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # 0009's keys are the old bands': forget the stories again (then --missing).
    _forget_stories()
    op.drop_table("story_band")
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
