"""Write archived records back out as record files, exactly as they were imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError
from .reader import Reader


def _file_name(path: str, sha256: str) -> str:
    name = os.path.basename(path)
    if path == "-" or not name:
        return f"stdin-{sha256[:12]}.md"
    return name


def _write_atomically(destination: Path, text: str) -> None:
    """Write through a temporary file and a rename: never a half-written record file."""
    handle, temporary = tempfile.mkstemp(prefix=".archive-", suffix=".part", dir=destination.parent)
    try:
        # newline="" keeps CRLF files byte for byte.
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, destination)
    except BaseException:
        os.unlink(temporary)
        raise


def dump(reader: Reader, folder: str, *, force: bool = False) -> int:
    """Write every record file the archive holds into `folder`; return how many.

    That is each path's latest imported content, and the own record of every
    article (which may be an earlier content of a path that now describes another
    article): so two files describing one article both come back. The bytes are
    the imported file's bytes. Files with the same name get their source_file id in
    front of the later names, so nothing is overwritten.
    """
    own = "false" if reader.dialect == "postgresql" else "0"
    chosen = (
        " FROM source_file"
        " WHERE source_file.id IN (SELECT max(source_file.id) FROM source_file"
        " GROUP BY source_file.path)"
        " OR source_file.id IN (SELECT article.source_file_id FROM article"
        f" WHERE article.is_stub IS {own})"
        " ORDER BY source_file.id"
    )
    target = Path(folder)
    # Every name is chosen and checked before the first file is written: a clash
    # stops the dump before it has changed anything in the folder.
    names: dict[int, Path] = {}
    used: set[str] = set()
    _columns, rows = reader.execute(
        "SELECT source_file.id, source_file.path, source_file.sha256" + chosen, stream=True
    )
    for source_id, path, sha256 in rows:
        name = _file_name(path, sha256)
        while name in used:  # the id makes it unique, unless a real file has that name
            name = f"{source_id}_{name}"
        used.add(name)
        destination = target / name
        if destination.is_symlink():
            raise OutputError(f"{destination} is a symbolic link: refusing to write through it")
        if destination.exists() and not force:
            raise OutputError(f"{destination} already exists (use --force to overwrite)")
        names[source_id] = destination
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    _columns, rows = reader.execute("SELECT source_file.id, source_file.text" + chosen, stream=True)
    for source_id, text in rows:
        _write_atomically(names[source_id], text)
        written += 1
    return written
