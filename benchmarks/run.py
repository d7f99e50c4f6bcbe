"""archive's benchmark: one run, one table, figures comparable between versions.

    python benchmarks/run.py                     # N = 10,000 and 100,000
    python benchmarks/run.py --sizes 1000        # quicker
    python benchmarks/run.py --million           # adds N = 1,000,000
    python benchmarks/run.py --shape old         # the seed-shaped corpus of earlier rounds
    python benchmarks/run.py --small-imports     # + 50 and 500 new files into a 100k archive
    python benchmarks/run.py --new-work          # + stories, search index, import --git

Each figure is measured in this run on this machine; the import is also shown as
a ratio of the practical limit (benchmarks/limit.py) measured in the same run, since
absolute numbers move with the machine. Corpora are generated deterministically
(benchmarks/generate.py) into --workdir and reused by later runs (regenerated when
generate.py changes). The default corpus is shaped like the real sample: the header
prints what was measured (benchmarks/shape.py on up to 2,000 of its files: CRLF,
videos, related entries, sizes...) and the share of files the fast YAML path
leaves to PyYAML, by reason.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import SHAPES, generate  # noqa: E402
from history import write_history  # noqa: E402
from limit import run_limit  # noqa: E402
from shape import describe_fallbacks, fallbacks, format_shape, measure, read  # noqa: E402

ARCHIVE = [sys.executable, "-m", "archive"]
# The console script, as users start it (start-up rows): `-m` adds runpy's imports.
_SCRIPT = Path(sys.executable).parent / "archive"
ARCHIVE_SCRIPT = [str(_SCRIPT)] if _SCRIPT.exists() else ARCHIVE
ROWS: list[tuple[str, str, float, str, str]] = []


def report(metric: str, n: int | str, value: float, unit: str, ratio: float | None = None) -> None:
    ROWS.append((metric, str(n), value, unit, "" if ratio is None else f"{ratio:.2f}"))
    print(f"{metric:<50} {n!s:>9} {value:>12.1f} {unit:<11} {ROWS[-1][4]:>8}", flush=True)


# (metric, N) -> the spread of its repeats, (max - min) / median: printed at the end
# as the run's noise, the margin within which two figures do not differ.
NOISE: dict[tuple[str, str], float] = {}


def median_of(metric: str, n: int | str, values: list[float]) -> float:
    """The median of repeated measurements, their spread noted in NOISE."""
    middle = statistics.median(values)
    if len(values) > 1 and middle:
        NOISE[(metric, str(n))] = (max(values) - min(values)) / middle
    return middle


def report_noise() -> None:
    """One row per repeated metric: its spread, in percent of its median."""
    for (metric, n), spread in NOISE.items():
        report(f"noise: {metric}"[:50], n, 100 * spread, "% spread")
    if NOISE:
        report("noise: median spread of all repeated metrics", "-",
               100 * statistics.median(NOISE.values()), "% spread")  # fmt: skip


SHAPE = "real"  # set by --shape
# Which generator wrote a corpus: a corpus from an older generate.py is rewritten.
_GENERATOR = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:16]


def corpus(workdir: Path, n: int) -> tuple[Path, int]:
    folder = workdir / f"corpus-{SHAPE}-{n}"
    marker = folder / ".complete"
    stamp = f"{n} {SHAPE} {_GENERATOR}"
    if not marker.exists() or marker.read_text() != stamp:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"# generating {n} records into {folder}", file=sys.stderr, flush=True)
        generate(folder, n, shape=SHAPE)
        marker.write_text(stamp)
    size = sum(f.stat().st_size for f in folder.rglob("*.md"))
    return folder, size


def describe_corpus(workdir: Path, n: int) -> None:
    """Print what the corpus of N records looks like (measured, not the generator's intent)."""
    folder, _ = corpus(workdir, n)
    texts = read(folder, limit=2000)
    print(f"# corpus N={n}, {SHAPE} shape (measured on {len(texts)} files):")
    print(f"#   {format_shape(measure(texts))}")
    print(f"#   fast YAML path: {describe_fallbacks(*fallbacks(texts))}", flush=True)


def _tree_memory_kb(pid: int) -> int:
    """Proportional set size (PSS) of a process and its descendants, from /proc (Linux).

    PSS splits pages shared between processes (a forked parser shares the writer's
    modules) among them, so the sum is the memory the import really takes;
    summing RSS would count those pages once per process.
    """
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as status:
                for line in status:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{current}/task/{current}/children") as children:
                stack += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError, PermissionError):
            continue
    return total


def timed(command: list[str]) -> tuple[float, float]:
    """Run a command; return (seconds, peak memory (PSS, MB) of its process tree)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_memory_kb(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode()}")
    return seconds, peak / 1024


def interleaved_ms(
    commands: list[list[str]], runs: int, names: tuple[str, ...], n: int | str
) -> list[float]:
    """Median wall time (ms) of each command, run in turns; spreads go to NOISE."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(
                command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            found.append((time.perf_counter() - start) * 1000)
    return [median_of(name, n, found) for name, found in zip(names, times, strict=True)]


def median_ms(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _empty_postgres(url: str) -> None:
    """Start from an empty database: the benchmark's archive is its only content."""
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def bench_import(
    workdir: Path, n: int, repeat: int = 1, url: str | None = None
) -> tuple[str, float, float]:
    """Import the corpus of N records; return the archive's location (a file or `url`).

    With a PostgreSQL `url`, the limit is still the SQLite one measured in the same
    run: the ratio then says how far the PostgreSQL import is from this machine's
    practical limit for the same work.
    """
    folder, size = corpus(workdir, n)
    limit_db = workdir / f"limit-{n}.db"
    db = url or str(workdir / f"archive-{n}.db")
    limit_rates, rates, peaks = [], [], []
    # With --repeat, the two pipelines take turns and each figure is the median:
    # on a shared machine one run of either can be 10-15% off.
    for _ in range(repeat):
        for path in (limit_db, *(() if url else (db,))):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if url:
            _empty_postgres(url)
        subprocess.run(
            [*ARCHIVE, "--db", str(limit_db), "db", "upgrade", "--create"],
            check=True,
            capture_output=True,
        )
        count, seconds = run_limit(folder, limit_db)
        limit_rates.append(count / seconds)
        seconds, rss = timed([*ARCHIVE, "--db", db, "import", "--quiet", str(folder)])
        rates.append(n / seconds)
        peaks.append(rss)
    limit_rate = median_of("limit", n, limit_rates)
    rate = median_of("import", n, rates)
    report("limit: rapidyaml x2 + raw sqlite3 import", n, limit_rate, "records/s")
    report("import", n, rate, "records/s", rate / limit_rate)
    report("import throughput", n, size / (n / rate) / 1e6, "MB/s")
    report("import peak memory (PSS, all processes)", n, max(peaks), "MB")

    seconds, rss = timed([*ARCHIVE, "--db", db, "import", "--quiet", str(folder)])
    report("re-import, nothing changed", n, n / seconds, "files/s")
    report("re-import peak memory (PSS)", n, rss, "MB")
    return db, limit_rate, rate


def _library_queries(n: int) -> list[tuple[str, Callable[[Any], Any]]]:
    from archive.query import queries

    popular, rare = "AI", "Topic 199"  # generate.py: Zipf ranks 1 and ~220
    popular_provider = "news0.example.com"
    f = queries.Filters
    return [
        ("providers --topic (popular)", lambda c: queries.providers(c, f(topics=[popular]))),
        ("providers --topic (rare)", lambda c: queries.providers(c, f(topics=[rare]))),
        ("providers --topic --include-related (popular)",
         lambda c: queries.providers(c, f(topics=[popular]), include_related=True)),
        ("topics", lambda c: queries.topics(c, f())),
        ("topics --provider (popular)", lambda c: queries.topics(c, f(providers=[popular_provider]))),
        ("timeline --by month --topic (popular)", lambda c: queries.timeline(c, f(topics=[popular]), by="month")),
        ("timeline --by week --topic (rare)", lambda c: queries.timeline(c, f(topics=[rare]), by="week")),
        ("search (common word)", lambda c: queries.search(c, "police", f())),
        ("search (rare phrase)", lambda c: queries.search(c, '"zürich münchen"', f())),
        ("cooccur --topic (popular)", lambda c: queries.cooccur(c, popular, f())),
    ]  # fmt: skip


def bench_queries(db: str, n: int, runs: int) -> None:
    """Median time of each query in-process (the CLI adds its start-up, reported once)."""
    from archive.query.reader import open_reader

    # Start-up beside Python's own with the sqlite3 module (issue 23: within 1.5x),
    # the three taking turns so that a busy moment falls on all of them.
    superuser = ["--allow-superuser"] if "://" in db else []  # the benchmark owns the server
    python_ms, version_ms, sql_ms = interleaved_ms(
        [
            [sys.executable, "-c", "import sqlite3"],
            [*ARCHIVE_SCRIPT, "--version"],
            [*ARCHIVE_SCRIPT, "--db", db, "sql", "SELECT 1", *superuser],
        ],
        11,
        ("python -c 'import sqlite3'", "archive --version", "archive sql 'SELECT 1'"),
        n,
    )
    report("CLI start-up: python -c 'import sqlite3' (median)", n, python_ms, "ms")
    report("CLI start-up: archive --version (median)", n, version_ms, "ms", version_ms / python_ms)
    # What a person waits for one question: start-up and a rare topic's answer, next
    # to `archive sql` on the same archive (issue 15: within 2x of it).
    report("CLI: archive sql 'SELECT 1' (median)", n, sql_ms, "ms", sql_ms / python_ms)
    rare = [*ARCHIVE, "--db", db, "providers", "--topic", "Topic 199", "--format", "csv"]
    report("CLI: archive providers --topic (rare) (median)", n, median_ms(rare, 11), "ms")
    with open_reader(db) as reader:
        for name, run in _library_queries(n):
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                for _row in run(reader).rows:
                    pass
                times.append((time.perf_counter() - start) * 1000)
            report(f"query: {name}", n, statistics.median(times), "ms")


def bench_export(workdir: Path, db: str, n: int, repeat: int = 1) -> None:
    """Export article_summary as CSV and JSONL; CSV beside the sqlite3 shell's -csv,
    the two taking turns (`repeat` times each, medians)."""
    postgres = "://" in db
    if postgres:
        from archive.store.database import open_archive

        archive = open_archive(db, create=False)
        with archive.connect() as connection:
            rows = connection.exec_driver_sql("SELECT count(*) FROM article_summary").scalar()
        archive.close()
    else:
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT count(*) FROM article_summary").fetchone()[0]
    target = workdir / "export.out"
    shell = not postgres and shutil.which("sqlite3")
    times: dict[str, list[float]] = {"shell": [], "csv": [], "jsonl": []}
    for _ in range(repeat):
        if shell:
            start = time.perf_counter()
            with open(target, "w") as out:
                subprocess.run(["sqlite3", "-csv", "-header", str(db), "SELECT * FROM article_summary"],
                               check=True, stdout=out)  # fmt: skip
            times["shell"].append(time.perf_counter() - start)
        for fmt in ("csv", "jsonl"):
            target.unlink(missing_ok=True)
            elapsed, _ = timed(
                [*ARCHIVE, "--db", db, "export", "article_summary", "--format", fmt, "-o", str(target),
                 # The benchmark's server account is its owner; a user's reader role
                 # needs no flag.
                 *(["--allow-superuser"] if postgres else [])]
            )  # fmt: skip
            times[fmt].append(elapsed)
    seconds = median_of("export: sqlite3 shell -csv", n, times["shell"]) if shell else None
    if seconds:
        report("export: sqlite3 shell -csv (article_summary)", n, rows / seconds, "rows/s")
    for fmt in ("csv", "jsonl"):
        elapsed = median_of(f"export --format {fmt}", n, times[fmt])
        ratio = seconds / elapsed if seconds and fmt == "csv" else None
        report(f"export: archive export --format {fmt}", n, rows / elapsed, "rows/s", ratio)
    target.unlink(missing_ok=True)


def _linked(files: list[Path], folder: Path) -> Path:
    """`folder` holding hard links to `files` (made once): a folder to import."""
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in files:
            os.link(path, folder / path.name)
        marker.write_text(str(len(files)))
    return folder


SMALL = (50, 500)


def bench_small_imports(workdir: Path, base: int, repeat: int) -> None:
    """Wall time of importing 50 and 500 new files into an existing archive of
    `base` records, beside `archive sql 'SELECT 1'` on it (a daily update is
    mostly start-up). The base archive is built once and copied for each run."""
    pool_size = max(repeat, 1) * sum(SMALL)
    folder, _ = corpus(workdir, base + pool_size)
    files = sorted(folder.rglob("*.md"))
    kept = _linked(files[:base], workdir / f"small-base-{base}")
    base_db = workdir / f"small-base-{base}.db"
    if not (workdir / f"small-base-{base}.done").exists():
        base_db.unlink(missing_ok=True)
        seconds, _ = timed([*ARCHIVE, "--db", str(base_db), "import", "--quiet", str(kept)])
        report("small imports: build the base archive once", base, base / seconds, "records/s")
        (workdir / f"small-base-{base}.done").write_text("")
    db = workdir / f"small-{base}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(base_db, db)
    pool = files[base:]
    times: dict[int, list[float]] = {k: [] for k in SMALL}
    for r in range(repeat):
        for k in SMALL:
            new, pool = pool[:k], pool[k:]
            batch = _linked(new, workdir / f"small-new-{base}-{r}-{k}")
            seconds, _ = timed([*ARCHIVE_SCRIPT, "--db", str(db), "import", "--quiet", str(batch)])
            times[k].append(seconds * 1000)
    (sql_ms,) = interleaved_ms(
        [[*ARCHIVE_SCRIPT, "--db", str(db), "sql", "SELECT 1"]], 11, ("small: sql",), base
    )
    for k in SMALL:
        wall = median_of(f"import {k} new files", base, times[k])
        report(f"import {k} new files into the archive (wall)", base, wall, "ms", wall / sql_ms)
    report("archive sql 'SELECT 1' on that archive (wall)", base, sql_ms, "ms")


def bench_stories_and_search(
    workdir: Path, db: str, n: int, repeat: int, rates: tuple[float, float]
) -> None:
    """The new work of the round at N: import without stories (beside the import
    with them, measured before), and the search index's build on the archive."""
    limit_rate, rate = rates
    folder, _ = corpus(workdir, n)
    plain = workdir / f"no-stories-{n}.db"
    found = []
    for _ in range(repeat):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{plain}{suffix}").unlink(missing_ok=True)
        seconds, _ = timed(
            [*ARCHIVE, "--db", str(plain), "import", "--quiet", "--no-stories", str(folder)]
        )
        found.append(n / seconds)
    without = median_of("import --no-stories", n, found)
    report("import --no-stories", n, without, "records/s", without / limit_rate)
    report("stories' cost: import time with / without", n, without / rate, "x")
    # The FTS indexes fill in the import's own transactions (triggers), so their
    # share cannot be switched off; rebuilding both from the finished archive, in a
    # transaction rolled back, measures the same work.
    with sqlite3.connect(db, isolation_level=None) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")]  # fmt: skip
        if tables:
            connection.execute("BEGIN")
            start = time.perf_counter()
            for table in tables:
                connection.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            seconds = time.perf_counter() - start
            connection.execute("ROLLBACK")
            report("search index: rebuild its FTS tables", n, seconds * 1000, "ms")
            report("search index: share of the import's time", n, 100 * seconds / (n / rate), "%")
    plain.unlink(missing_ok=True)


def bench_git_history(workdir: Path, commits: int, files: int, repeat: int) -> None:
    """`import --git` of a generated history shaped like the real one (history.py)."""
    repository = workdir / f"history-{commits}-{files}"
    stamp = repository / ".git" / "bench-complete"
    if not stamp.exists():
        write_history(repository, commits, files)
        stamp.write_text("")
    db = workdir / "history.db"
    found = []
    for _ in range(repeat):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        seconds, _ = timed([*ARCHIVE, "--db", str(db), "import", "--quiet", "--git", str(repository),
                            "--git-path", "_news"])  # fmt: skip
        found.append(commits / seconds)
    rate = median_of("import --git", commits, found)
    report(f"import --git ({files} files, real-history shape)", commits, rate, "commits/s")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated record counts")
    parser.add_argument("--million", action="store_true", help="also run N = 1,000,000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/archive-bench"))
    parser.add_argument("--query-runs", type=int, default=20)
    parser.add_argument(
        "--repeat", type=int, default=1, help="import runs per pipeline (median); 3 for less noise"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="a PostgreSQL database to benchmark instead of a SQLite file (it is emptied first)",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="real",
        help="records shaped like the real sample (default) or like the seed (old)",
    )
    parser.add_argument(
        "--small-imports",
        action="store_true",
        help="also import 50 and 500 new files into an existing archive of --small-base records",
    )
    parser.add_argument("--small-base", type=int, default=100_000, metavar="N")
    parser.add_argument(
        "--new-work",
        action="store_true",
        help="also import --no-stories and the search index's cost at each N, and"
        " import --git of a generated history (benchmarks/history.py)",
    )
    parser.add_argument("--git-commits", type=int, default=700, metavar="N")
    parser.add_argument("--git-files", type=int, default=200, metavar="N")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    global SHAPE
    SHAPE = args.shape
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million:
        sizes.append(1_000_000)
    args.workdir.mkdir(parents=True, exist_ok=True)

    engine = "postgresql" if args.db else f"sqlite {sqlite3.sqlite_version}"
    print(
        f"# archive benchmark: python {platform.python_version()}, {engine},"
        f" {os.cpu_count()} cores, {platform.machine()}"
    )
    for n in sizes:
        describe_corpus(args.workdir, n)
    print(f"{'metric':<50} {'N':>9} {'value':>12} {'unit':<11} {'vs limit':>8}")
    for n in sizes:
        db, limit_rate, rate = bench_import(args.workdir, n, args.repeat, args.db)
        if args.new_work and not args.db:
            bench_stories_and_search(args.workdir, db, n, args.repeat, (limit_rate, rate))
        bench_queries(db, n, args.query_runs)
        bench_export(args.workdir, db, n, args.repeat)
    if args.small_imports and not args.db:
        bench_small_imports(args.workdir, args.small_base, args.repeat)
    if args.new_work and not args.db:
        bench_git_history(args.workdir, args.git_commits, args.git_files, args.repeat)
    report_noise()


if __name__ == "__main__":
    main()
