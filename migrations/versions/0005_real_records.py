"""Real records: original_url and featured_content, provider extras, files linked to articles

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Real collections carry videos (no webUrl: their address is originalUrl, and
featuredContent embeds them), provider logos (provider.images), and several files
describing one article. This revision adds the columns for them, links each
stored file to the article it describes (source_file.article_id), drops
source_file.error (never written: rejected files are not stored), and matches
topic and provider names in Unicode NFKC form.

The new columns are filled from the stored file texts with the importer's parser
as it was at this revision (frozen in migrations/support/records_0005.py, so a
later parser change does not change this migration), so they hold exactly what
an import would write; an archive of a million files takes a few minutes. Names
whose keys now coincide (a precomposed é and e + combining accent) are merged
into the topic or provider seen first.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import op

frozen = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).resolve().parents[1] / "support" / "records_0005.py"))
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("article", sa.Column("original_url", sa.Text(), nullable=True))
    op.add_column("article", sa.Column("featured_content", sa.Text(), nullable=True))
    op.add_column("provider", sa.Column("extra", sa.JSON(), nullable=True))
    if sqlite:
        # In place (SQLite 3.35+): rebuilding source_file would copy every file's text.
        op.execute("ALTER TABLE source_file DROP COLUMN error")
        # SQLite adds a column with a foreign key only inline, never by ALTER ... ADD CONSTRAINT.
        op.execute(
            "ALTER TABLE source_file ADD COLUMN article_id INTEGER"
            " CONSTRAINT fk_source_file_article_id_article REFERENCES article (id)"
            " DEFERRABLE INITIALLY DEFERRED"
        )
    else:
        op.drop_column("source_file", "error")
        op.add_column("source_file", sa.Column("article_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_source_file_article_id_article",
            "source_file",
            "article",
            ["article_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
        )
    op.create_index("ix_source_file_article_id", "source_file", ["article_id"])
    _merge_names("topic", _topic_key, [("article_topic", "topic_id")])
    _merge_names(
        "provider",
        _provider_name_key,
        [("article", "provider_id"), ("article_topic", "provider_id")],
    )
    _fill_from_texts()


def downgrade() -> None:
    """Keys stay in NFKC form and merged names stay merged: 0004 reads them as they are."""
    op.drop_index("ix_source_file_article_id", table_name="source_file")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_source_file_article_id_article", "source_file", type_="foreignkey")
    for table, column in (
        ("source_file", "article_id"),
        ("provider", "extra"),
        ("article", "featured_content"),
        ("article", "original_url"),
    ):
        _drop_column(table, column)
    op.add_column("source_file", sa.Column("error", sa.Text(), nullable=True))


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+), so the views and triggers on these tables survive.
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


# --- names in NFKC form ----------------------------------------------------------------


def _topic_key(key: str, name: str) -> str:
    return frozen.topic_key(name)


def _provider_name_key(key: str, name: str | None) -> str:
    # Only providers known by name change: a domain key has no Unicode to normalize.
    if not key.startswith("name:"):
        return key
    return frozen.provider_name_key(name)


def _merge_names(table: str, new_key: Any, references: list[tuple[str, str]]) -> None:
    """Recompute `table`'s keys; rows whose keys now coincide merge into the first."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, key, name FROM {table} ORDER BY id")).all()
    survivors: dict[str, int] = {}
    changed: list[tuple[str, int]] = []
    merged: list[tuple[int, int]] = []  # (duplicate id, survivor id)
    for row_id, key, name in rows:
        key_now = new_key(key, name)
        if key_now in survivors:
            merged.append((row_id, survivors[key_now]))
            continue
        survivors[key_now] = row_id
        if key_now != key:
            changed.append((key_now, row_id))
    for duplicate, survivor in merged:
        for ref_table, column in references:
            if ref_table == "article_topic" and column == "topic_id":
                # One link per article and topic: drop the duplicate's links the survivor has.
                conn.execute(
                    sa.text(
                        "DELETE FROM article_topic WHERE topic_id = :duplicate AND article_id IN"
                        " (SELECT article_id FROM article_topic WHERE topic_id = :survivor)"
                    ),
                    {"duplicate": duplicate, "survivor": survivor},
                )
            conn.execute(
                sa.text(f"UPDATE {ref_table} SET {column} = :survivor WHERE {column} = :duplicate"),
                {"duplicate": duplicate, "survivor": survivor},
            )
        conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": duplicate})
    for key_now, row_id in changed:
        conn.execute(
            sa.text(f"UPDATE {table} SET key = :key WHERE id = :id"), {"key": key_now, "id": row_id}
        )


# --- columns filled from the stored texts ------------------------------------------------


def _fill_from_texts() -> None:
    conn = op.get_bind()
    own = dict(
        conn.execute(
            sa.text(
                "SELECT source_file_id, id FROM article"
                " WHERE is_stub = :no AND source_file_id IS NOT NULL"
            ),
            {"no": False},
        ).all()
    )
    links: list[tuple[int, int]] = []
    for source_id, _path, text in _texts(conn):
        try:
            record = frozen.read(text)
        except frozen.Unreadable:
            continue  # imported under rules this version no longer has: left as it is
        article_id = own.get(source_id) or _article_of(conn, record.article.url_keys)
        if article_id is None:
            continue
        links.append((article_id, source_id))
        if own.get(source_id) == article_id:
            _fill_article(conn, article_id, record)
        for entry in record.related:
            _fill_stub(conn, entry)
        if len(links) >= _BATCH:
            _link(conn, links)
    _link(conn, links)


def _texts(conn: Any) -> Iterator[tuple[int, str, str]]:
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, path, text FROM source_file WHERE id > :last AND text IS NOT NULL"
                " ORDER BY id LIMIT :size"
            ),
            {"last": last, "size": _BATCH},
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _article_of(conn: Any, keys: list[str]) -> int | None:
    for key in keys:
        found = conn.execute(
            sa.text("SELECT article_id FROM article_url WHERE url_key = :key"), {"key": key}
        ).scalar()
        if found is not None:
            return int(found)
    return None


def _fill_article(conn: Any, article_id: int, record: Any) -> None:
    article = record.article
    conn.execute(
        sa.text(
            "UPDATE article SET original_url = :original, featured_content = :featured"
            " WHERE id = :id"
        ),
        {"original": article.original_url, "featured": article.featured_content, "id": article_id},
    )
    for key in article.url_keys:  # originalUrl is an identity now; YouTube links are one video
        taken = conn.execute(
            sa.text("SELECT 1 FROM article_url WHERE url_key = :key"), {"key": key}
        ).scalar()
        if taken is None:
            conn.execute(
                sa.text("INSERT INTO article_url (url_key, article_id) VALUES (:key, :id)"),
                {"key": key, "id": article_id},
            )
    if article.provider_extra:
        conn.execute(
            sa.text(
                "UPDATE provider SET extra = :extra WHERE extra IS NULL AND id ="
                " (SELECT provider_id FROM article WHERE id = :id)"
            ).bindparams(sa.bindparam("extra", type_=sa.JSON)),
            {"extra": article.provider_extra, "id": article_id},
        )


def _fill_stub(conn: Any, entry: Any) -> None:
    """A stub takes the new fields from the first related entry that gives them (in
    import order, as the texts are read), like any field it was missing."""
    stub = _article_of(conn, entry.url_keys)
    if stub is None:
        return
    conn.execute(
        sa.text(
            "UPDATE article SET original_url = COALESCE(original_url, :original),"
            " featured_content = COALESCE(featured_content, :featured)"
            " WHERE id = :id AND is_stub = :yes"
        ),
        {
            "original": entry.original_url,
            "featured": entry.featured_content,
            "id": stub,
            "yes": True,
        },
    )


def _link(conn: Any, links: list[tuple[int, int]]) -> None:
    if links:
        conn.execute(
            sa.text("UPDATE source_file SET article_id = :article WHERE id = :source"),
            [{"article": article, "source": source} for article, source in links],
        )
        links.clear()
