"""Which module defines each command, and the line `archive --help` shows for it.

The CLI imports a command's module only when that command runs (app.LazyCommands):
importing all of them, with what they import, took longer than Python's own start.
`archive --help` lists the commands from this table instead of loading them. It
must say what the modules register: tests/test_startup.py loads every module and
compares, so a command added to a module without a line here fails there.

Free of click and of the rest of the package: the start path reads it.
"""

from __future__ import annotations

# name: (module in archive.cli, short help exactly as the command's decorator says it)
COMMANDS: dict[str, tuple[str, str]] = {
    "articles": ("query_commands", "Articles, newest first."),
    "completion": ("completion_command", "Print the shell completion script."),
    "cooccur": ("query_commands", "Topics that appear together with a topic."),
    "db": ("db_commands", "Schema upgrades and other database tasks."),
    "dump": ("db_commands", "Write every record back out as a file."),
    "export": ("sql_commands", "Export a table, view or query (CSV, JSON, Parquet)."),
    "history": ("query_commands", "An article's versions, newest first."),
    "import": ("import_command", "Import record files and folders of them."),
    "providers": ("query_commands", "Which providers cover a topic."),
    "related": ("query_commands", "Articles linked to or from an article."),
    "search": ("query_commands", "Full-text search, best matches first."),
    "serve": ("serve_command", "Browse the archive in a web browser."),
    "show": ("query_commands", "One article in full."),
    "sql": ("sql_commands", "Run your own read-only SQL."),
    "stats": ("query_commands", "Rows per table, dates, size, revision."),
    "stories": ("stories_command", "Copies of one text, grouped: the largest stories."),
    "timeline": ("query_commands", "Articles per day, week, month or year."),
    "topics": ("query_commands", "Topics by number of articles."),
}
