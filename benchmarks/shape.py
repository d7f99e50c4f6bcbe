"""What a folder of record files looks like, and which of them the fast YAML path declines.

    python benchmarks/shape.py                      # the real sample, tests/fixtures/real/
    python benchmarks/shape.py FOLDER [FOLDER ...]  # e.g. a corpus generate.py wrote
    python benchmarks/shape.py --rate               # also files/s: LF vs CRLF, fast vs PyYAML

For each folder: the share of files with CRLF line breaks, videos, provider logos,
related entries..., field lengths, and the share of files the fast YAML path
(archive/ingest/yamlfast.py) declines, so that they are read by PyYAML, by reason.
generate.py's real shape is calibrated on these figures for the real sample, and
tests/test_real_shape.py keeps it within tolerance of them; benchmarks/run.py
prints them for the corpus it measured.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from archive.ingest import yamldoc, yamlfast
from archive.ingest.records import split_front_matter

REAL_SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real"

# Shares are of files (0..1) unless the name says "per record" or "chars"/"bytes" (means).
METRICS = {
    "crlf": "files with CRLF line breaks",
    "video": "records of type video",
    "video without webUrl": "videos whose only address is originalUrl",
    "originalUrl": "records with originalUrl",
    "webUrl = originalUrl": "records with both where they are equal",
    "featuredContent": "records with featuredContent (an embed iframe)",
    "provider.images": "records with a provider logo list",
    "ampWebUrl": "records with AMP addresses",
    "related": "records with related entries",
    "related per record": "mean related entries",
    "topics per record": "mean topics",
    "images per record": "mean images",
    "empty list": "records with an empty flow list ([])",
    "escaped quote": 'records with a \\" escape in a double-quoted string',
    "html entity": "records with an HTML entity (&#8217;) in a string",
    "plain strings": "string values written plain, not quoted",
    "shared address": "records whose address another file also has",
    "published": "records with published: true",
    "title chars": "mean title length",
    "excerpt chars": "mean excerpt length",
    "secured chars": "mean secured length",
    "file bytes": "mean file size",
}

_VALUE_LINE = re.compile(r"^ *(?:- +)*[A-Za-z_][\w]*: (\S.*)$", re.MULTILINE)


def read(folder: Path, limit: int | None = None) -> list[str]:
    """The files' text as the importer reads it (bytes decoded: CRs kept).

    With `limit`, that many files evenly spaced over the sorted list (a big corpus
    is measured on a sample of it).
    """
    paths = sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".txt", ".yaml"))
    if limit is not None and len(paths) > limit:
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    return [path.read_bytes().decode("utf-8") for path in paths]


def _count_empty_lists(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_count_empty_lists(v) for v in value.values())
    if isinstance(value, list):
        return not value or any(_count_empty_lists(v) for v in value)
    return False


def measure(texts: Iterable[str]) -> dict[str, float]:
    """The METRICS of these record files."""
    count = Counter[str]()
    sums = Counter[str]()
    files = videos = both_urls = 0
    addresses: Counter[str] = Counter()
    plain = strings = 0
    for text in texts:
        files += 1
        yaml_text, _, _ = split_front_matter(text)
        value, _ = yamldoc.load(yaml_text)
        count["crlf"] += "\r\n" in text
        kind = value.get("type")
        videos += kind == "video"
        count["video without webUrl"] += kind == "video" and "webUrl" not in value
        count["originalUrl"] += "originalUrl" in value
        if "originalUrl" in value and "webUrl" in value:
            both_urls += 1
            count["webUrl = originalUrl"] += value["webUrl"] == value["originalUrl"]
        count["featuredContent"] += "featuredContent" in value
        count["provider.images"] += bool((value.get("provider") or {}).get("images"))
        count["ampWebUrl"] += "ampWebUrl" in value
        related = value.get("related") or []
        count["related"] += bool(related)
        sums["related per record"] += len(related)
        sums["topics per record"] += len(value.get("topics") or [])
        sums["images per record"] += len(value.get("images") or [])
        count["empty list"] += _count_empty_lists(value)
        count["escaped quote"] += '\\"' in yaml_text
        count["html entity"] += "&#" in yaml_text
        file_strings, file_plain = _string_scalars(yaml_text)
        strings += file_strings
        plain += file_plain
        addresses[value.get("webUrl") or value.get("originalUrl")] += 1
        count["published"] += value.get("published") is True
        sums["title chars"] += len(value.get("title") or "")
        sums["excerpt chars"] += len(value.get("excerpt") or "")
        sums["secured chars"] += len(value.get("secured") or "")
        sums["file bytes"] += len(text.encode("utf-8"))
    if not files:
        return {}
    totals = {"files": files, "videos": videos, "both urls": both_urls, "plain": plain}
    totals["strings"] = strings
    totals["shared"] = sum(n for n in addresses.values() if n > 1)
    return _shares(count, sums, totals)


def _string_scalars(yaml_text: str) -> tuple[int, int]:
    """How many scalar values of these lines are strings, and how many of those plain."""
    strings = plain = 0
    for match in _VALUE_LINE.finditer(yaml_text.replace("\r\n", "\n")):
        scalar = match.group(1).rstrip()
        if scalar[0] in "\"'":
            strings += 1
        elif not re.fullmatch(r"-?\d+|true|false|\d{4}-\d\d-\d\dT[\d:]+Z|\[\]|\{\}", scalar):
            strings += 1
            plain += 1
    return strings, plain


def _shares(count: Counter[str], sums: Counter[str], totals: dict[str, int]) -> dict[str, float]:
    """Each METRIC as a share of what it is counted among (mostly the files)."""
    files, videos, both_urls = totals["files"], totals["videos"], totals["both urls"]
    result: dict[str, float] = {}
    for name in METRICS:
        if name == "video without webUrl":
            result[name] = count[name] / videos if videos else 0.0
        elif name == "video":
            result[name] = videos / files
        elif name == "webUrl = originalUrl":
            result[name] = count[name] / both_urls if both_urls else 0.0
        elif name == "plain strings":
            result[name] = totals["plain"] / totals["strings"] if totals["strings"] else 0.0
        elif name == "shared address":
            result[name] = totals["shared"] / files
        elif name in sums:
            result[name] = sums[name] / files
        else:
            result[name] = count[name] / files
    return result


def fallbacks(texts: Iterable[str]) -> tuple[int, Counter[str]]:
    """How many files there are, and how many the fast path declines, by reason."""
    reasons: Counter[str] = Counter()
    files = 0
    for text in texts:
        files += 1
        yaml_text, _, _ = split_front_matter(text)
        try:
            yamlfast.load(yaml_text)
        except yamlfast.Declined as declined:
            reasons[getattr(declined, "reason", "unknown")] += 1
    return files, reasons


def parse_rates(texts: list[str], rounds: int = 7) -> dict[tuple[str, str], float]:
    """Files/s of parse_record on the LF and the CRLF files, with the fast path and without.

    Each round times every (line break, parser) pair once, in turn, and each figure
    is the median over rounds: on a shared machine, ratios taken this way are
    steadier than any one figure.
    """
    from archive.ingest import records

    groups = {
        "LF": [t.encode("utf-8") for t in texts if "\r\n" not in t],
        "CRLF": [t.encode("utf-8") for t in texts if "\r\n" in t],
    }
    load = yamldoc.load
    timings: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(rounds):
            for parser in ("fast path", "PyYAML"):
                # parse_record calls yamldoc.load(text, offset): without the fast
                # path, every file goes to PyYAML as a declined one would.
                yamldoc.load = load if parser == "fast path" else _pyyaml_only(load)
                for ending, files in groups.items():
                    if not files:
                        continue
                    repeat = max(1, 400 // len(files))
                    start = time.perf_counter()
                    for _ in range(repeat):
                        for data in files:
                            records.parse_record(data)
                    elapsed = time.perf_counter() - start
                    timings.setdefault((ending, parser), []).append(repeat * len(files) / elapsed)
    finally:
        yamldoc.load = load
    return {key: statistics.median(rates) for key, rates in timings.items()}


def _pyyaml_only(load: Any) -> Any:
    def without_fast_path(text: str, line_offset: int = 0, *, fast: bool = True) -> Any:
        return load(text, line_offset, fast=False)

    return without_fast_path


def describe_fallbacks(files: int, reasons: Counter[str]) -> str:
    declined = sum(reasons.values())
    why = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
    share = declined / files if files else 0.0
    return f"{share:.1%} of {files} files fall back to PyYAML" + (f" ({why})" if why else "")


def format_shape(shape: dict[str, float]) -> str:
    parts = []
    for name, value in shape.items():
        if name.endswith(("chars", "bytes")):
            parts.append(f"{name} {value:.0f}")
        elif name.endswith("per record"):
            parts.append(f"{name} {value:.2f}")
        else:
            parts.append(f"{name} {value:.0%}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[REAL_SAMPLE])
    parser.add_argument("--limit", type=int, help="measure this many files, evenly spaced")
    parser.add_argument(
        "--rate", action="store_true", help="also time parsing: LF vs CRLF, fast path vs PyYAML"
    )
    args = parser.parse_args()
    for folder in args.folders:
        texts = read(folder, args.limit)
        print(f"# {folder}: {len(texts)} files")
        for name, value in measure(texts).items():
            shown = format_shape({name: value}).removeprefix(name + " ")
            print(f"{name:<22} {shown:>8}   {METRICS[name]}")
        print("fast path: " + describe_fallbacks(*fallbacks(texts)))
        if args.rate:
            rates = parse_rates(texts)
            for (ending, parser_name), rate in rates.items():
                print(f"parse rate {ending:<4} {parser_name:<9} {rate:8.0f} files/s")
            if ("CRLF", "fast path") in rates and ("LF", "fast path") in rates:
                slower = rates["LF", "fast path"] / rates["CRLF", "fast path"]
                print(f"parse rate: CRLF files take {slower:.2f}x the time of LF files")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
