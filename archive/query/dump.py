"""Write archived records back out as record files, exactly as they were imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import func, or_, select

from ..errors import OutputError
from ..store.database import Archive
from ..store.models import tables


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


def dump(archive: Archive, folder: str, *, force: bool = False) -> int:
    """Write every record file the archive holds into `folder`; return how many.

    That is each path's latest imported content, and the own record of every
    article (which may be an earlier content of a path that now describes another
    article): so two files describing one article both come back. The bytes are
    the imported file's bytes. Files with the same name get their source_file id in
    front of the later names, so nothing is overwritten.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    used: set[str] = set()
    source = tables.source
    latest_per_path = select(func.max(source.c.id)).group_by(source.c.path)
    own_records = select(tables.article.c.source_file_id).where(tables.article.c.is_stub.is_(False))
    query = (
        select(source.c.id, source.c.path, source.c.sha256, source.c.text)
        .where(or_(source.c.id.in_(latest_per_path), source.c.id.in_(own_records)))
        .order_by(source.c.id)
    )
    with archive.connect() as conn:
        for source_id, path, sha256, text in conn.execute(query).yield_per(500):
            name = _file_name(path, sha256)
            while name in used:  # the id makes it unique, unless a real file has that name
                name = f"{source_id}_{name}"
            used.add(name)
            destination = target / name
            if destination.is_symlink():
                raise OutputError(f"{destination} is a symbolic link: refusing to write through it")
            if destination.exists() and not force:
                raise OutputError(f"{destination} already exists (use --force to overwrite)")
            _write_atomically(destination, text)
            written += 1
    return written
