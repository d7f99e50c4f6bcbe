"""Alembic environment: run migrations on the connection archive hands us, or on a URL."""

from alembic import context
from sqlalchemy import Engine, engine_from_config, pool

from archive.store import models

target_metadata = models.SQLModel.metadata
config = context.config


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # The full-text index (a virtual table and its shadow tables) and the views
    # are created by hand in migrations; the models do not describe them.
    return not (type_ == "table" and name.startswith("article_fts"))


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
