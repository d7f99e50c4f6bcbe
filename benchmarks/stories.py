"""Stories' cost at import (README: Stories), as ratios measured in one run.

    python benchmarks/stories.py                          # N = 10,000; growth at 10k and 50k
    python benchmarks/stories.py --sizes 100000 --bases 10000 100000 300000

1. Import N real-shaped records (benchmarks/generate.py) into a new archive with
   `import --no-stories` and with stories; the ratio is the cost of clustering
   (target: within 1.15).
2. Adding 1,000 new records to one archive as it grows through --bases: the extra
   time stories take (with minus without, each on a copy of the same archive) must
   not grow with the archive, since each article is looked up by its band keys
   only. Also printed: the older articles' index rows under the new articles' keys
   (what their lookups read), per new article.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

ARCHIVE = [sys.executable, "-m", "archive"]
NEW = 1000


def corpus(workdir: Path, n: int) -> Path:
    folder = workdir / f"stories-corpus-{n}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, n, shape="real")
        marker.write_text(str(n))
    return folder


def timed_import(db: Path, *paths: Path, stories: bool = True) -> float:
    return _import(db, *paths, stories=stories)[0]


def _import(db: Path, *paths: Path, stories: bool = True) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the import and its parser processes (steadier
    than wall time on a shared machine, but blind to work moved between processes)."""
    flags = [] if stories else ["--no-stories"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*ARCHIVE, "--db", str(db), "import", "-q", *flags, *map(str, paths)], check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def import_ratio(workdir: Path, n: int, repeat: int) -> None:
    folder = corpus(workdir, n)
    ratios, cpu_ratios = [], []
    for run in range(repeat):
        times, cpu = {}, {}
        # Alternate which goes first: a shared machine's load drifts.
        for stories in (False, True) if run % 2 == 0 else (True, False):
            db = workdir / f"ratio-{n}-{stories}.db"
            db.unlink(missing_ok=True)
            times[stories], cpu[stories] = _import(db, folder, stories=stories)
        ratios.append(times[True] / times[False])
        cpu_ratios.append(cpu[True] / cpu[False])
        print(f"import {n:>7} records   without stories {times[False]:7.1f} s   with"
              f" {times[True]:7.1f} s   ratio {ratios[-1]:.3f}   CPU {cpu[False]:6.1f} s"
              f" / {cpu[True]:6.1f} s = {cpu_ratios[-1]:.3f}")  # fmt: skip
    db = workdir / f"ratio-{n}-True.db"
    with sqlite3.connect(db) as conn:
        grouped = conn.execute(
            "SELECT count(*), coalesce(sum(articles), 0) FROM story WHERE articles > 1"
        ).fetchone()
    print(f"import {n:>7} records   median ratio of {repeat}: {statistics.median(ratios):.3f}"
          f"   median CPU ratio {statistics.median(cpu_ratios):.3f}"
          f"   (stories of 2+: {grouped[0]}, {grouped[1]} articles)")  # fmt: skip


def growth(workdir: Path, bases: list[int]) -> None:
    """One archive grown through `bases` (with stories); at each, NEW more records
    added to two copies of it, without and with stories."""
    bases = sorted(bases)
    parts = sorted(p for p in corpus(workdir, bases[-1] + NEW).iterdir() if p.is_dir())
    db = workdir / "growing.db"
    db.unlink(missing_ok=True)
    have = 0
    for base in bases:
        timed_import(db, *parts[have // 1000 : base // 1000])
        have = base
        new = parts[base // 1000 : (base + NEW) // 1000]
        with sqlite3.connect(db) as conn:
            (last,) = conn.execute("SELECT max(id) FROM article").fetchone()
        wall, cpu = {}, {}
        for stories in (False, True):
            copy = workdir / f"grow-{stories}.db"
            shutil.copy(db, copy)
            wall[stories], cpu[stories] = _import(copy, *new, stories=stories)
        with sqlite3.connect(workdir / "grow-True.db") as conn:
            # The rows of older articles under the new articles' keys: what their
            # lookups read (story_band is keyed by key: no scan finds these).
            (rows,) = conn.execute(
                "SELECT count(*) FROM story_band WHERE article_id <= ? AND key IN"
                " (SELECT key FROM story_band WHERE article_id > ?)", (last, last)
            ).fetchone()  # fmt: skip
            (articles,) = conn.execute("SELECT count(*) FROM article_story").fetchone()
        print(f"add {NEW} into {base:>7} ({articles} with stories after)   wall without"
              f" {wall[False]:6.2f} s  with {wall[True]:6.2f} s   CPU without {cpu[False]:6.2f} s"
              f"  with {cpu[True]:6.2f} s   stories' CPU per new article"
              f" {(cpu[True] - cpu[False]) / NEW * 1000:5.2f} ms   older index rows read per new"
              f" article {rows / NEW:.2f}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--bases", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=3, help="import pairs; the median ratio")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/archive-bench-stories"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        import_ratio(args.workdir, n, args.repeat)
    if args.bases:
        growth(args.workdir, args.bases)


if __name__ == "__main__":
    main()
