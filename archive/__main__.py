"""`python -m archive` runs the CLI."""

from .cli import main

main()
