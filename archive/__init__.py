"""archive: news-record files into a queryable SQLite (or PostgreSQL) archive."""

# pyproject.toml reads the version from here; `archive --version` prints it without
# asking importlib.metadata (30 ms at every start).
__version__ = "0.1.0"
