"""Alembic environment: run migrations on the connection archive hands us, or on a URL."""

from alembic import context
from sqlalchemy import Engine, engine_from_config, pool

from archive.store import models

target_metadata = models.SQLModel.metadata
config = context.config


# SQLite adds a column with a foreign key only inline (revision 0005), and SQLAlchemy
# reads neither the name nor DEFERRABLE of an inline constraint back, so comparing
# these would always differ. tests/test_migrations.py checks them directly.
SQLITE_INLINE_FOREIGN_KEYS = {("source_file", ("article_id",))}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # The full-text index (a virtual table and its shadow tables) and the views
    # are created by hand in migrations; the models do not describe them.
    if type_ == "table" and name.startswith("article_fts"):
        return False
    # PostgreSQL's search column and its index (revision 0002), likewise.
    if type_ in ("column", "index") and name in ("search_vector", "ix_article_search_vector"):
        return False
    if type_ == "foreign_key_constraint" and context.get_context().dialect.name == "sqlite":
        return (obj.table.name, tuple(obj.column_keys)) not in SQLITE_INLINE_FOREIGN_KEYS
    return True


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if isinstance(connection, Engine):  # pytest-alembic hands over an Engine
    with connection.connect() as conn:
        run(conn)
elif connection is not None:
    run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run(conn)
