"""archive's benchmark: one run, one table, figures comparable between versions.

    python benchmarks/run.py                     # N = 10,000 and 100,000
    python benchmarks/run.py --sizes 1000        # quicker
    python benchmarks/run.py --million           # adds N = 1,000,000
    python benchmarks/run.py --shape old         # the seed-shaped corpus of earlier rounds

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
from limit import run_limit  # noqa: E402
from shape import describe_fallbacks, fallbacks, format_shape, measure, read  # noqa: E402

ARCHIVE = [sys.executable, "-m", "archive"]
ROWS: list[tuple[str, str, float, str, str]] = []


def report(metric: str, n: int | str, value: float, unit: str, ratio: float | None = None) -> None:
    ROWS.append((metric, str(n), value, unit, "" if ratio is None else f"{ratio:.2f}"))
    print(f"{metric:<50} {n!s:>9} {value:>12.1f} {unit:<11} {ROWS[-1][4]:>8}", flush=True)


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


def bench_import(workdir: Path, n: int, repeat: int = 1, url: str | None = None) -> str:
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
    limit_rate, rate = statistics.median(limit_rates), statistics.median(rates)
    report("limit: rapidyaml x2 + raw sqlite3 import", n, limit_rate, "records/s")
    report("import", n, rate, "records/s", rate / limit_rate)
    report("import throughput", n, size / (n / rate) / 1e6, "MB/s")
    report("import peak memory (PSS, all processes)", n, max(peaks), "MB")

    seconds, rss = timed([*ARCHIVE, "--db", db, "import", "--quiet", str(folder)])
    report("re-import, nothing changed", n, n / seconds, "files/s")
    report("re-import peak memory (PSS)", n, rss, "MB")
    return db


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

    report(
        "CLI start-up: archive --version (median)", n, median_ms([*ARCHIVE, "--version"], 5), "ms"
    )
    # What a person waits for one question: start-up and a rare topic's answer, next
    # to `archive sql` on the same archive (issue 15: within 2x of it).
    superuser = ["--allow-superuser"] if "://" in db else []  # the benchmark owns the server
    sql_ms = median_ms([*ARCHIVE, "--db", db, "sql", "SELECT 1", *superuser], 11)
    report("CLI: archive sql 'SELECT 1' (median)", n, sql_ms, "ms")
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


def bench_export(workdir: Path, db: str, n: int) -> None:
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
    seconds = None
    if not postgres and shutil.which("sqlite3"):
        start = time.perf_counter()
        with open(target, "w") as out:
            subprocess.run(["sqlite3", "-csv", "-header", str(db), "SELECT * FROM article_summary"],
                           check=True, stdout=out)  # fmt: skip
        seconds = time.perf_counter() - start
        report("export: sqlite3 shell -csv (article_summary)", n, rows / seconds, "rows/s")
    for fmt in ("csv", "jsonl"):
        target.unlink(missing_ok=True)
        elapsed, _ = timed(
            [
                *ARCHIVE,
                "--db",
                db,
                "export",
                "article_summary",
                "--format",
                fmt,
                "-o",
                str(target),
                # The benchmark's server account is its owner; a user's reader role
                # needs no flag.
                *(["--allow-superuser"] if postgres else []),
            ]
        )
        ratio = (rows / elapsed) / (rows / seconds) if seconds and fmt == "csv" else None
        report(f"export: archive export --format {fmt}", n, rows / elapsed, "rows/s", ratio)
    target.unlink(missing_ok=True)


def main() -> None:
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
    args = parser.parse_args()
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
        db = bench_import(args.workdir, n, args.repeat, args.db)
        bench_queries(db, n, args.query_runs)
        bench_export(args.workdir, db, n)


if __name__ == "__main__":
    main()
