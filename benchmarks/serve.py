"""How fast `archive serve` answers: every canned query, the chart and the facet pages.

    python benchmarks/serve.py                   # N = 100,000 generated records
    python benchmarks/serve.py --sizes 1000      # a quick look

Starts `archive serve` on 127.0.0.1 against an archive of the generated corpus
(benchmarks/generate.py, imported once into --workdir and reused), loads each page
as a browser would (the HTML, over HTTP) and reports the median time in the table
format of benchmarks/run.py. The aim is under a second for each page on a
100,000-record archive; figures go in the notes of the change that moves them,
not in tests.
"""

from __future__ import annotations

import argparse
import json
import re
import select
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ARCHIVE, corpus, report  # noqa: E402

POPULAR, RARE = "AI", "Topic 199"  # generate.py: Zipf ranks 1 and ~220
POPULAR_PROVIDER, POPULAR_PROVIDER_NAME = "news0.example.com", "Provider 0"


def archive_db(workdir: Path, n: int) -> Path:
    """The corpus of N records, imported once (a marker file says it finished)."""
    db = workdir / f"serve-{n}.db"
    marker = workdir / f"serve-{n}.db.complete"
    if not marker.exists():
        folder, _ = corpus(workdir, n)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print(f"# importing {n} records into {db}", file=sys.stderr, flush=True)
        subprocess.run([*ARCHIVE, "--db", str(db), "import", "--quiet", str(folder)], check=True)
        marker.write_text(str(n))
    return db


@contextmanager
def serving(db: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [*ARCHIVE, "--db", str(db), "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        ready, _, _ = select.select([process.stderr], [], [], 120)
        line = process.stderr.readline() if ready else ""
        match = re.search(r" at (http://\S+/) ", line)
        if not match:
            raise SystemExit(f"archive serve did not start: {line!r}")
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def load(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read().decode("utf-8")


def pages(db: Path) -> list[tuple[str, str]]:
    """(name, path) of each page to time."""
    name = db.stem
    with sqlite3.connect(db) as connection:
        linked = connection.execute(
            "SELECT a.url FROM related_link r JOIN article a ON a.id = r.related_article_id"
            " GROUP BY r.related_article_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    related_url = linked[0] if linked else "https://example.com/"

    def q(path: str, **params: str) -> str:
        return f"/{name}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")

    return [
        ("home page", "/"),
        ("providers_for_topic (popular)", q("providers_for_topic", topic=POPULAR)),
        ("providers_for_topic (rare)", q("providers_for_topic", topic=RARE)),
        ("providers_for_topic_with_related (popular)", q("providers_for_topic_with_related", topic=POPULAR)),
        ("topics_for_provider (popular)", q("topics_for_provider", provider=POPULAR_PROVIDER)),
        ("timeline_for_topic (popular)", q("timeline_for_topic", topic=POPULAR)),
        ("cooccurring_topics (popular)", q("cooccurring_topics", topic=POPULAR)),
        ("related_articles (most linked)", q("related_articles", url=related_url)),
        ("providers_for_topic_by_story (popular)", q("providers_for_topic_by_story", topic=POPULAR)),
        ("largest_stories (all)", q("largest_stories")),
        ("copies_of_url (most linked)", q("copies_of_url", url=related_url)),
        ("article_history (most linked)", q("article_history", url=related_url)),
        ("timeline chart (popular)", q("-/timeline", topic=POPULAR)),
        ("facets: article_summary", q("article_summary")),
        ("facets: topic_article", q("topic_article")),
        ("facets: article_topic", q("article_topic")),
        ("facets: topics of one provider", q("article_summary", _facet_array="topics", provider=POPULAR_PROVIDER_NAME)),
        ("facets: topics of a search", q("article_summary", _facet_array="topics", _search='"zürich münchen"')),
        ("facets: topics of every article", q("article_summary", _facet_array="topics")),
        ("search: article (common word)", q("article", _search="police")),
    ]  # fmt: skip


def timed_out_facets(base: str, path: str) -> list[str]:
    """The facets a table page asked for that did not finish in facet_time_limit_ms."""
    parts = urllib.parse.urlsplit(path)
    if parts.path.count("/") != 2 or "-/" in parts.path:
        return []
    try:
        data = json.loads(load(base + parts.path.lstrip("/") + ".json?" + parts.query))
    except (OSError, ValueError):
        return []
    if "facet_results" not in data:
        return []
    asked = set(urllib.parse.parse_qs(parts.query).get("_facet_array", []))
    asked |= set(data.get("facets_timed_out") or [])
    return sorted(asked - set(data["facet_results"]))


def bench_serve(db: Path, n: int, runs: int) -> None:
    with serving(db) as base:
        for name, path in pages(db):
            url = base + path.lstrip("/")
            load(url)  # the first load also runs Datasette's start-up and warms caches
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                load(url)
                times.append((time.perf_counter() - start) * 1000)
            missing = timed_out_facets(base, path)
            note = f" [gave up: {', '.join(missing)}]" if missing else ""
            report(f"serve {name}{note}", n, statistics.median(times), "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated record counts")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/archive-bench"))
    parser.add_argument("--runs", type=int, default=5, help="loads of each page (median)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'metric':<50} {'N':>9} {'value':>12} {'unit':<11} {'vs limit':>8}")
    for n in (int(s) for s in args.sizes.split(",") if s):
        bench_serve(archive_db(args.workdir, n), n, args.runs)


if __name__ == "__main__":
    main()
