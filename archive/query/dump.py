"""Write archived records back out as record files, exactly as they were imported.

The folder written is what `archive import` reads back into the same archive: each
collection's tree (a folder or repository imported) under the collection's name,
every file at its path with the content of its current version, and an order file
(`.archive-order`) listing the files in the order they were imported, which import
follows (ingest/places.py). The files are written into a temporary folder beside
the target and moved into place at the end: a failure leaves no partial folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import OutputError
from ..output.targets import check_output_file
from .reader import Reader

ORDER_FILE = ".archive-order"  # as ingest/places.ORDER_FILE (query does not import ingest)

# Each file's current version (its last, unless the file was deleted), files
# imported before revision 0007 by their path, and any article's own record that is
# not one of those (an older archive's file that came to describe another article).
_CHOSEN = """
FROM source_file s LEFT JOIN collection c ON c.id = s.collection_id
WHERE (s.collection_id IS NOT NULL AND s.removed_at IS NULL AND s.id IN
        (SELECT max(id) FROM source_file WHERE collection_id IS NOT NULL
         GROUP BY collection_id, rel_path))
   OR (s.collection_id IS NULL AND s.id IN
        (SELECT max(id) FROM source_file WHERE collection_id IS NULL GROUP BY path)
       AND NOT EXISTS (SELECT 1 FROM source_file t
                       WHERE t.path = s.path AND t.collection_id IS NOT NULL))
   OR s.id IN (SELECT source_file_id FROM article WHERE is_stub = {false}
               AND removed_at IS NULL)
ORDER BY s.id
"""


@dataclass
class DumpResult:
    written: int = 0
    # Rows whose text is not stored (the column allows NULL): nothing to write back.
    without_text: int = 0


# --all-versions: every version, in import order.
_EVERY = """
FROM source_file s LEFT JOIN collection c ON c.id = s.collection_id
ORDER BY s.id
"""


def dump(
    reader: Reader,
    folder: str,
    *,
    force: bool = False,
    all_versions: bool = False,
    protected: tuple[str, ...] = (),
) -> DumpResult:
    """Write every current record file the archive holds into `folder`; with
    `all_versions`, every version (the older ones under `.versions/`), listed in
    the order file so that import applies them in their order."""
    if all_versions:
        chosen = _EVERY
        names, order = _version_names(reader)
    else:
        chosen = _CHOSEN.format(false="false" if reader.dialect == "postgresql" else "0")
        names = _names(reader, chosen)
        order = None
    target = Path(folder)
    _check_destinations(target, [*names.values(), ORDER_FILE], force, protected)
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".archive-dump-", dir=parent))
    result = DumpResult()
    try:
        written: list[str] = []
        _columns, rows = reader.execute("SELECT s.id, s.text " + chosen, stream=True)
        for source_id, text in rows:
            if text is None:
                result.without_text += 1
                continue
            name = names[source_id]
            _write(staging / name, text)
            written.append(name)
            result.written += 1
        lines = written if order is None else [line for line in order if _kept(line, written)]
        _write(staging / ORDER_FILE, "".join(f"{line}\n" for line in lines))
        _move_into_place(staging, target, [*written, ORDER_FILE])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _names(reader: Reader, chosen: str) -> dict[int, str]:
    """Each chosen row's path inside the dump folder, decided before anything is written."""
    _columns, rows = reader.execute(
        "SELECT s.id, s.path, s.sha256, s.rel_path, c.id, c.name " + chosen, stream=True
    )
    folders: dict[int, str] = {}
    used: set[str] = set()
    names: dict[int, str] = {}
    for source_id, path, sha256, rel_path, collection_id, collection in rows:
        relative = _safe(rel_path) if collection_id is not None else None
        if relative is not None:
            if collection_id not in folders:
                folders[collection_id] = _folder_name(collection, collection_id, used)
            name = f"{folders[collection_id]}/{relative}"
            if name in used:  # an older record of an article, beside its file's current one
                name = f"{folders[collection_id]}/{source_id}_{PurePosixPath(relative).name}"
        else:
            name = _flat_name(path, sha256)
            while name in used:  # the id makes it unique, unless a real file has that name
                name = f"{source_id}_{name}"
        used.add(name)
        names[source_id] = name
    return names


def _kept(line: str, written: list[str]) -> bool:
    name, tab, stored = line.partition("\t")
    return (stored or name) in written or (bool(tab) and not stored)


def _version_names(reader: Reader) -> tuple[dict[int, str], list[str]]:
    """Every version's place in the dump and the order file's lines: a file's last
    version at its path (unless deleted), the others under .versions/."""
    _columns, rows = reader.execute(
        "SELECT s.id, s.path, s.sha256, s.rel_path, c.id, c.name, s.removed_at " + _EVERY
    )
    rows = list(rows)
    folders: dict[int, str] = {}
    used: set[str] = set()
    identity: dict[int, str] = {}
    last: dict[str, int] = {}
    for source_id, path, sha256, rel_path, collection_id, collection, _removed in rows:
        relative = _safe(rel_path) if collection_id is not None else None
        if relative is not None:
            if collection_id not in folders:
                folders[collection_id] = _folder_name(collection, collection_id, used)
            name = f"{folders[collection_id]}/{relative}"
        else:
            name = _flat_name(path, sha256)
        identity[source_id] = name
        last[name] = source_id
    names: dict[int, str] = {}
    order: list[str] = []
    for source_id, _path, _sha, _rel, _cid, _name, removed in rows:
        name = identity[source_id]
        if last[name] == source_id and removed is None:
            names[source_id] = name
            order.append(name)
        else:
            stored = f".versions/{source_id}-{PurePosixPath(name).name}"
            names[source_id] = stored
            order.append(f"{name}\t{stored}")
        if removed is not None:
            order.append(f"{name}\t")
    return names, order


def _folder_name(name: str, collection_id: int, used: set[str]) -> str:
    """A collection's folder: its name, not hidden (import skips hidden folders), unique."""
    base = _safe(name.lstrip(".") or "collection") or "collection"
    base = base.replace("/", "_")
    folder = base
    while folder in used or any(u.startswith(folder + "/") for u in used):
        folder = f"{base}-{collection_id}"
        base = folder
    used.add(folder)
    return folder


def _safe(relative: str | None) -> str | None:
    """A stored relative path, if it stays inside the folder (a row could say anything)."""
    if not relative:
        return None
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..", "/") or "\0" in p or "\\" in p for p in parts):
        return None
    return "/".join(parts)


def _flat_name(path: str, sha256: str) -> str:
    name = os.path.basename(path)
    if path == "-" or not name:
        return f"stdin-{sha256[:12]}.md"
    return name


def _check_destinations(
    target: Path, names: list[str], force: bool, protected: tuple[str, ...]
) -> None:
    """Refuse, before writing, what would replace a non-file, the archive, or (without
    --force) a file."""
    for name in names:
        destination = target / name
        for folder in list(reversed(destination.parents))[len(target.parents) :]:
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise OutputError(f"{folder} is not a folder: refusing to write through it")
        exists = check_output_file(str(destination), protected)
        if exists and not force and name != ORDER_FILE:
            raise OutputError(f"{destination} already exists (use --force to overwrite)")


def _write(destination: Path, text: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    # newline="" keeps CRLF files byte for byte; the mode follows the umask.
    with open(destination, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)


def _move_into_place(staging: Path, target: Path, names: list[str]) -> None:
    if not os.path.lexists(target):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp's folder is private
        os.rename(staging, target)
        return
    for name in names:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, destination)
