"""The benchmark runs end to end (at a tiny N: figures are measured by hand, not here)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_benchmark_runs_and_prints_its_table(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "60",
         "--workdir", str(tmp_path), "--query-runs", "1", "--repeat", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("metric"))
    table = {line[:50].strip(): line[50:].split() for line in lines[header + 1 :]}
    assert len(table) == len(lines[header + 1 :]), "each metric once, also with --repeat"
    for metric in (
        "limit: rapidyaml x2 + raw sqlite3 import",
        "import",
        "import peak memory (PSS, all processes)",
        "re-import, nothing changed",
        "query: providers --topic (popular)",
        "query: search (rare phrase)",
        "export: archive export --format csv",
        "export: archive export --format jsonl",
    ):
        n, value, _unit = table[metric][:3]
        assert n == "60"
        assert float(value) > 0, (metric, table[metric])
    # The import is reported as a fraction of the limit measured in the same run.
    assert float(table["import"][3]) > 0
    # The header says what was measured: the real shape's shares, measured on the
    # corpus itself, and how many files the fast YAML path left to PyYAML.
    described = "\n".join(lines[:header])
    assert "# corpus N=60, real shape (measured on 60 files):" in described, described
    for share in ("crlf ", "video ", "video without webUrl 100%", "originalUrl 100%",
                  "provider.images ", "related per record ", "file bytes "):  # fmt: skip
        assert share in described, (share, described)
    assert "fast YAML path: 0.0% of 60 files fall back to PyYAML" in described, described
    assert (tmp_path / "corpus-real-60" / ".complete").exists()


def test_benchmark_keeps_the_old_shape_on_request(tmp_path):
    """--shape old measures the seed-shaped corpus of earlier rounds, in its own folder."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "40",
         "--workdir", str(tmp_path), "--query-runs", "1", "--shape", "old"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "# corpus N=40, old shape" in result.stdout
    assert "crlf 0%, video 0%" in result.stdout
    assert "related per record 4.00" in result.stdout
    assert (tmp_path / "corpus-old-40" / ".complete").exists()
    assert not (tmp_path / "corpus-real-40").exists()


def test_serve_benchmark_loads_every_page(tmp_path):
    """benchmarks/serve.py runs end to end and reports a time for every canned query."""
    from archive.serve.queries import CANNED_QUERIES

    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve.py"), "--sizes", "60",
         "--workdir", str(tmp_path), "--runs", "1"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = [line.rsplit(None, 3)[0] for line in result.stdout.splitlines()[1:]]
    for query in CANNED_QUERIES:
        assert any(m.startswith(f"serve {query.name} (") for m in metrics), (query.name, metrics)
    assert any(m.startswith("serve timeline chart") for m in metrics)
    assert sum(m.startswith("serve facets:") for m in metrics) >= 4


def test_benchmark_runs_on_postgresql(tmp_path, pg_archive):
    """`benchmarks/run.py --db URL` gives the same table for a PostgreSQL archive."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "60",
         "--workdir", str(tmp_path), "--query-runs", "1", "--db", pg_archive.url],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout.splitlines()[0]
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("metric"))
    table = {line[:50].strip(): line[50:].split() for line in lines[header + 1 :]}
    for metric in ("import", "re-import, nothing changed", "query: search (common word)",
                   "export: archive export --format csv"):  # fmt: skip
        assert float(table[metric][1]) > 0, (metric, table[metric])
    # The archive it measured is in that database.
    assert pg_archive.count("source_file") == 60


def test_benchmark_measures_small_imports_and_the_new_work(tmp_path):
    """--small-imports and --new-work add their rows (tiny sizes), each figure beside
    its baseline of the same run, and the noise of the repeats."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "40",
         "--workdir", str(tmp_path), "--query-runs", "1", "--repeat", "2",
         "--small-imports", "--small-base", "30", "--new-work",
         "--git-commits", "12", "--git-files", "5"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("metric"))
    table = {line[:50].strip(): line[50:].split() for line in lines[header + 1 :]}
    for metric, n in (
        ("import 50 new files into the archive (wall)", "30"),
        ("import 500 new files into the archive (wall)", "30"),
        ("archive sql 'SELECT 1' on that archive (wall)", "30"),
        ("import --no-stories", "40"),
        ("stories' cost: import time with / without", "40"),
        ("search index: rebuild its FTS tables", "40"),
        ("import --git (5 files, real-history shape)", "12"),
        ("CLI start-up: python -c 'import sqlite3' (median)", "40"),
        ("noise: import", "40"),
        ("noise: median spread of all repeated metrics", "-"),
    ):
        assert table[metric][0] == n, (metric, table[metric])
        assert float(table[metric][1]) > 0, (metric, table[metric])
    # Wall times beside `archive sql 'SELECT 1'`, start-up beside Python's.
    assert float(table["import 50 new files into the archive (wall)"][3]) > 0
    assert float(table["CLI: archive sql 'SELECT 1' (median)"][3]) > 0
    # 50 + 500 new files per repeat, each imported once: all of them are in the archive.
    import sqlite3

    with sqlite3.connect(tmp_path / "small-30.db") as connection:
        (files,) = connection.execute("SELECT count(*) FROM source_file").fetchone()
    assert files == 30 + 2 * 550
    # The generated history has the commits asked for, in the real history's folder.
    log = subprocess.run(["git", "-C", str(tmp_path / "history-12-5"), "rev-list", "--count",
                          "HEAD"], capture_output=True, text=True, check=True)  # fmt: skip
    assert log.stdout.strip() == "12"
