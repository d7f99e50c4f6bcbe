"""Write N deterministic record files shaped like the seed, for benchmarks and load tests.

Providers and topics follow a Zipf-like popularity, about one related URL in five
is also a main article elsewhere in the corpus, text mixes in accents, CJK and
emoji, and each record is about 4.7 KB with several related entries and images.

    python benchmarks/generate.py OUT_DIR N [--seed S]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import random
from pathlib import Path

_PROSE = (
    "police facial recognition city council data privacy surveillance election vote model "
    "climate rain forecast camera protest mayor court ruling ban software algorithm bias "
    "researchers report users platform moderation deepfake video regulator fine company "
    "café naïve déjà São Paulo Zürich München 東京 人工知能 😀 🔍 données société"
)
WORDS = _PROSE.split()

TOPICS = [
    "AI", "Computer Vision", "Privacy", "Policing", "Surveillance", "Elections", "Climate",
    "Machine Learning", "Robotics", "Cybersecurity", "Social Media", "Misinformation",
    "Regulation", "Health", "Energy", "Transport", "Space", "Finance", "Education", "Courts",
] + [f"Topic {i}" for i in range(200)]  # fmt: skip


def zipf_choice(rng: random.Random, items: list, s: float = 1.1):
    # Inverse-CDF sampling over precomputed weights keeps it deterministic and fast.
    weights = _weights(len(items), s)
    return items[rng.choices(range(len(items)), cum_weights=weights)[0]]


_WEIGHT_CACHE: dict[tuple[int, float], list[float]] = {}


def _weights(n: int, s: float) -> list[float]:
    key = (n, s)
    if key not in _WEIGHT_CACHE:
        total, cum = 0.0, []
        for rank in range(1, n + 1):
            total += 1 / rank**s
            cum.append(total)
        _WEIGHT_CACHE[key] = cum
    return _WEIGHT_CACHE[key]


PROVIDERS = [(f"Provider {i}", f"news{i}.example.com") for i in range(2000)]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def article_url(index: int) -> str:
    domain = PROVIDERS[index % len(PROVIDERS)][1]
    return f"https://www.{domain}/2020/story-{index}"


def image_lines(rng: random.Random, indent: str, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        lines += [
            f'{indent}- url: "https://img.example.com/{rng.randrange(10**9)}.jpg"',
            f"{indent}  width: {rng.choice([640, 1200, 2048])}",
            f"{indent}  height: {rng.choice([480, 800, 1365])}",
            f"{indent}  isCached: true",
        ]
    return lines


def urls(url: str) -> tuple[str, str]:
    return url.replace("/2020/", "/amp/2020/"), (
        "https://" + url.split("//")[1].split("/")[0].replace(".", "-") + ".cdn.ampproject.org/c/s/"
        + url.split("//")[1]
    )  # fmt: skip


def record(index: int, n: int, rng: random.Random) -> str:
    name, domain = zipf_choice(rng, PROVIDERS)
    url = f"https://www.{domain}/2020/story-{index}"
    amp, cdn = urls(url)
    published = dt.datetime(2019, 1, 1) + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
    topics = sorted({zipf_choice(rng, TOPICS) for _ in range(rng.randint(1, 4))})
    lines = [
        "---",
        "category: news",
        f"title: {quoted(sentence(rng, 12))}",
        f"excerpt: {quoted(sentence(rng, 30))}",
        f"publishedDateTime: {published:%Y-%m-%dT%H:%M:%SZ}",
        f"webUrl: {quoted(url)}",
        f"ampWebUrl: {quoted(amp)}",
        f"cdnAmpWebUrl: {quoted(cdn)}",
        "type: article",
        f"quality: {rng.randint(1, 100)}",
        f"heat: {rng.randint(-1, 100)}",
        f"published: {rng.choice(['true', 'false'])}",
        "",
        "provider:",
        f"  name: {name}",
        f"  domain: {domain}",
        "",
        "topics:",
        *[f"  - {topic}" for topic in topics],
        "",
        "images:",
        *image_lines(rng, "  ", rng.randint(1, 2)),
        "",
        "related:",
    ]
    for _ in range(4):
        # One related URL in five points at another main article of the corpus.
        target = rng.randrange(n) if rng.random() < 0.2 else n + rng.randrange(n * 3)
        rname, rdomain = PROVIDERS[target % len(PROVIDERS)]
        rurl = f"https://www.{rdomain}/2020/story-{target}"
        ramp, rcdn = urls(rurl)
        rpub = published - dt.timedelta(hours=rng.randrange(72))
        lines += [
            f"  - title: {quoted(sentence(rng, 10))}",
            f"    excerpt: {quoted(sentence(rng, 25))}",
            f"    publishedDateTime: {rpub:%Y-%m-%dT%H:%M:%SZ}",
            f"    webUrl: {quoted(rurl)}",
            f"    ampWebUrl: {quoted(ramp)}",
            f"    cdnAmpWebUrl: {quoted(rcdn)}",
            "    type: article",
            "    provider:",
            f"      name: {rname}",
            f"      domain: {rdomain}",
            f"    quality: {rng.randint(1, 100)}",
            "    images:",
            *image_lines(rng, "      ", 1),
        ]
    secured = base64.b64encode(rng.randbytes(540)).decode()
    lines += ["", f'secured: "{secured};{base64.b64encode(rng.randbytes(16)).decode()}"', "---", ""]
    return "\n".join(lines)


def generate(folder: Path, n: int, seed: int = 1) -> list[Path]:
    """Write records 0..n-1 into `folder` (1,000 per subfolder); return their paths."""
    rng = random.Random(seed)
    paths = []
    for index in range(n):
        sub = folder / f"{index // 1000:04d}"
        if index % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{index:07d}.md"
        path.write_text(record(index, n, rng), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()
