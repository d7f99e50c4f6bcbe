"""`archive serve`: the archive in a web browser, through Datasette."""

from __future__ import annotations

import sys

import click

from ..rows import OutputOptions
from ..store.location import archive_files
from .app import cli
from .completion import complete_files
from .options import Number, db_location, examples


@cli.command(
    "serve",
    short_help="Browse the archive in a web browser.",
    epilog=examples(
        "archive serve",
        "archive serve --port 8080 --open",
        "archive serve --write-metadata metadata.json",
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address to listen on (0.0.0.0: every network interface).")  # fmt: skip
@click.option("--port", type=Number(0, 65535), default=8001, show_default=True, metavar="PORT",
              help="Port to listen on, 0 to 65535 (0: any free port).")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the home page in a web browser.")
@click.option(
    "--write-metadata",
    metavar="FILE",
    shell_complete=complete_files,
    help="Write the Datasette metadata (JSON) to FILE (- for stdout) and exit, for a plain"
    " `datasette` run.",
)
@click.option("--force", is_flag=True, help="Replace the metadata FILE if it exists.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    open_browser: bool,
    write_metadata: str | None,
    force: bool,
) -> None:
    """Browse the archive in a web browser (Datasette), read-only.

    Tables, views, facets, full-text search, a JSON API, the questions of the query
    commands as forms, and a timeline chart. Ctrl-C stops it.
    """
    from ..serve import server

    path = server.archive_path(db_location(ctx))
    if write_metadata is not None:
        import json

        from ..output.formats import destination
        from ..serve.metadata import metadata

        target = OutputOptions(
            output=write_metadata, force=force, protected=archive_files(db_location(ctx))
        )
        with destination(target, sys.stdout) as stream:
            json.dump(metadata(path.stem), stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        if write_metadata != "-":
            command = server.datasette_command(path, write_metadata)
            click.echo(f"wrote {write_metadata}; serve it with:\n  {command}", err=True)
        return
    sock = server.listen(host, port)
    had_sidecars = server.sidecars_exist(path)
    datasette = server.datasette_for(path)

    def ready(url: str) -> None:
        click.echo(f"serving {path} read-only at {url} (Ctrl-C stops)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        server.run(datasette, sock, on_ready=ready)
    finally:
        if not had_sidecars:
            server.tidy_sidecars(path)
