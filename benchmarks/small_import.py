"""Wall time of a small import into an existing archive, beside `archive sql 'SELECT 1'`.

    python benchmarks/small_import.py ARCHIVE.db NEW_FOLDER [NEW_FOLDER...] [--repeat 3]
        [--code OTHER_CHECKOUT]

Each import runs on a fresh copy of ARCHIVE.db (the copy is not timed), in a new
interpreter, as a user runs it; `archive sql 'SELECT 1'` on the same copy is the
baseline measured in the same run, so the ratio holds on a loaded machine. With
--code, the same is measured for another checkout of archive (PYTHONPATH), e.g. an
older commit extracted with `git archive`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(args: list[str], code: str | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `archive ARGS` in a new interpreter. CPU time
    (user + system, of the process and its parsers) is the steadier figure on a
    shared machine, where the wall time waits for the disk and the other jobs."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    # An installed archive runs from compiled bytecode (pip writes it); a shell with
    # PYTHONDONTWRITEBYTECODE would compile every module of each run from source
    # (0.15 s of CPU for an import). The cache lives outside the checkout.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "archive-bench-pycache")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "archive", *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        cwd=code,  # `-m` puts the working directory first on the path, before PYTHONPATH
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(
    archive: Path, folder: Path, repeat: int, code: str | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) seconds of sql SELECT 1 and of import FOLDER, each on a fresh copy."""
    baseline, imports = [], []
    copy = archive.with_name("bench-copy.db")
    for run in range(repeat + 1):  # the first run compiles the bytecode: not counted
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(archive, copy)
        # The copy's pages are still being written back: without this, the timed
        # commands wait for the disk behind a copy a user's archive never had.
        os.sync()
        sql = _timed(["--db", str(copy), "sql", "SELECT 1"], code)
        imported = _timed(["--db", str(copy), "import", "-q", str(folder)], code)
        if run:
            baseline.append(sql)
            imports.append(imported)
    return _medians(baseline), _medians(imports)


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", action="append", default=[None])
    options = parser.parse_args()
    for code in options.code:
        for folder in options.folders:
            files = sum(1 for p in folder.rglob("*") if p.is_file())
            sql, imported = measure(options.archive, folder, options.repeat, code)
            print(
                f"{code or 'this checkout'}: import {files} files: wall {imported[0]:.3f} s,"
                f" CPU {imported[1]:.3f} s; sql 'SELECT 1': wall {sql[0]:.3f} s, CPU"
                f" {sql[1]:.3f} s; ratio wall {imported[0] / sql[0]:.2f}, CPU"
                f" {imported[1] / sql[1]:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
