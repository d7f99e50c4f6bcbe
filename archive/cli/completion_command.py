"""`archive completion bash|zsh|fish`: the script that makes Tab complete `archive`."""

from __future__ import annotations

import click

from .app import cli
from .options import examples

SHELLS = ("bash", "zsh", "fish")


@cli.command(
    "completion",
    short_help="Print the shell completion script.",
    epilog=examples(
        "archive completion bash",
        'eval "$(archive completion bash)"',
        "archive completion zsh > _archive",
    ),
)
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
def completion_command(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    With it loaded, Tab completes commands, options, file names, and the topics,
    providers and tables of the archive that --db names (a SQLite file; nothing
    is read from a PostgreSQL server). Load it in every new shell:

    \b
    bash: in ~/.bashrc:  eval "$(archive completion bash)"
    zsh:  in ~/.zshrc, after compinit:  eval "$(archive completion zsh)"
          (or save it as _archive in a folder of $fpath)
    fish: archive completion fish > ~/.config/fish/completions/archive.fish
    """
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # SHELLS are the shells click knows
    # The same variable and program name as `archive` itself reads at every Tab.
    script = completion_class(cli, {}, "archive", "_ARCHIVE_COMPLETE").source()
    click.echo(script, nl=not script.endswith("\n"))
