"""The `archive` command: parse options, call the library, print results. No logic here.

`app` holds the group and turns the library's failures into one line and an exit
code; `options` holds the option decorators commands share; each other module is one
family of commands, imported when one of its commands runs (commands.py lists them).
`main` first tries `front`, which answers the few command lines that must start as
fast as Python itself without loading click.
"""

from __future__ import annotations

__all__ = ["cli", "main"]


def main() -> None:
    """Console entry point."""
    from .front import answer

    answer()  # returns when the command line is not one of the front door's
    from .app import main as click_main

    click_main()


def __getattr__(name: str) -> object:
    # `from archive.cli import cli` (tests, docs) without loading click at start.
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
