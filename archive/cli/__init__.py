"""The `archive` command: parse options, call the library, print results. No logic here.

`app` holds the group and turns the library's failures into one line and an exit
code; `options` holds the option decorators commands share; each other module is one
family of commands, registered on the group when imported here.
"""

from . import (  # noqa: F401  (registers the commands)
    completion_command,
    db_commands,
    import_command,
    query_commands,
    serve_command,
    sql_commands,
    stories_command,
)
from .app import cli, main

__all__ = ["cli", "main"]
