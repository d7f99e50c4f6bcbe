"""Shell completion: the values Tab completes (the script is `archive completion`).

Click runs the completion protocol itself (`_ARCHIVE_COMPLETE=bash_complete archive
...`, before any command runs); this module gives it what click cannot know: file
names where a string option is a file, topic names, provider domains and table names
read from the archive that --db (or $ARCHIVE_DB, or the default) names. Those run on
every Tab key press, so they read with plain sqlite3 (archive.query.names: no
SQLAlchemy), and a failure of any kind completes nothing rather than printing.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import click
from click.shell_completion import BashComplete, CompletionItem, add_completion_class

from ..store.location import is_url, resolve_location


class _QuotingBashComplete(BashComplete):
    """Bash inserts a completion as it is given: a topic such as `Computer Vision`
    would become two words. Quote plain values for bash (zsh and fish quote
    themselves)."""

    def format_completion(self, item: CompletionItem) -> str:
        if item.type == "plain" and item.value != shlex.quote(item.value):
            return f"{item.type},{shlex.quote(item.value)}"
        return super().format_completion(item)


add_completion_class(_QuotingBashComplete, "bash")


def complete_files(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """File names, for options that take a FILE or PATH but are plain strings (so that
    their values, `-` or a URL, stay the command's to judge)."""
    return [CompletionItem(incomplete, type="file")]


def _archive_file(ctx: click.Context) -> str | None:
    """The SQLite file the command line names, or None for a server URL: completing
    from a server could wait on the network (or a password) at every Tab."""
    try:
        location = resolve_location(ctx.find_root().params.get("db"))
    except Exception:  # completion never fails loudly
        return None
    return None if is_url(location) else location


def _from_archive(
    names: Callable[[str, str], list[str]],
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        path = _archive_file(ctx)
        if path is None:
            return []
        try:
            return [CompletionItem(name) for name in names(path, incomplete)]
        except Exception:  # completion never fails loudly
            return []

    return complete


def _topics(path: str, prefix: str) -> list[str]:
    from ..query.names import topic_names

    return topic_names(path, prefix)


def _providers(path: str, prefix: str) -> list[str]:
    from ..query.names import provider_domains

    return provider_domains(path, prefix)


def _tables(path: str, prefix: str) -> list[str]:
    from ..query.names import table_names

    return table_names(path, prefix)


complete_topics = _from_archive(_topics)
complete_providers = _from_archive(_providers)
complete_tables = _from_archive(_tables)
