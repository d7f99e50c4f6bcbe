"""Write N deterministic record files, for benchmarks and load tests.

Two shapes:

- `real` (the default) is calibrated on the real sample (tests/fixtures/real/,
  measured by benchmarks/shape.py; tests/test_real_shape.py keeps the two within
  tolerance): REAL holds the shares. CRLF line breaks in 46% of files, 21% videos
  (address in originalUrl only, a YouTube link, with an embed iframe in
  featuredContent), originalUrl on every record, provider logos, HTML entities
  and escaped quotes in quoted strings, related entries on 4% of records, 7% of
  files sharing their article with another file, ~1.6 KB per file. A few shapes
  the sample lacks but real collections have (`images: []`, \\u escapes,
  single quotes) come in small shares (BEYOND_SAMPLE) so that their cost shows.
- `old` is the shape of the seed record: all LF, every record an article with
  four related entries and AMP addresses, about 4.7 KB.

In both, providers and topics follow a Zipf-like popularity, about one related
URL in five is also a main article elsewhere in the corpus, and text mixes in
accents, CJK and emoji.

    python benchmarks/generate.py OUT_DIR N [--seed S] [--shape real|old]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import random
from pathlib import Path
from typing import Any

SHAPES = ("real", "old")

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


def record(index: int, n: int, rng: random.Random, shape: str = "old") -> str:
    """The text of record `index` of `n` (CRLF line breaks kept, as in a file).

    The functions default to the old shape, which the tests that generate corpora
    were written for (every URL has `story-`, four related entries); the command
    line and the benchmark default to the real one.
    """
    if shape == "real":
        return real_record(index, n, rng)
    if shape != "old":
        raise ValueError(f"unknown shape {shape!r}: real or old")
    return old_record(index, n, rng)


def old_record(index: int, n: int, rng: random.Random) -> str:
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


# The real sample's figures (python benchmarks/shape.py), which real_record follows.
REAL = {
    "crlf": 13 / 28,
    "video": 6 / 28,
    "ampWebUrl": 1 / 28,
    "provider.images": 24 / 28,
    "related": 1 / 28,
    "related entries": 2,  # the one record with related entries has two
    "topics": {1: 17, 2: 11},  # files by topic count
    "images": {0: 1, 1: 27},
    "published": 22 / 28,
    "shared address": 2 / 28,  # two files for one article
    "html entity": 4 / 22,  # of articles (&#8217; &#8211; in excerpts and titles)
    "escaped quote": 1 / 22,  # of articles; every video has them in featuredContent
    "escaped line break": 1 / 22,  # of articles: \r\n written as escapes
    "title chars": (29, 40, 127),  # shortest, most common, longest: mean 62
    "excerpt chars": (27, 240, 349),  # of articles (mean 200); videos' are cut near 300
    "secured bytes": {273: 17, 336: 7, 369: 1, 402: 3},  # base64'd: 389..561 chars
}
# Shapes real collections have that the 28 files lack: small shares, so that the
# fast path's handling of them is part of what is measured.
BEYOND_SAMPLE = {
    "empty list": 0.02,  # `images: []` or `related: []`
    "unicode escape": 0.02,  # "\\u00e9" in a title
    "single quoted": 0.02,  # a title in single quotes
}
_VIDEO_PROSE = (
    "In this overview video, we highlight some of the new capabilities included in the "
    "latest update that will help you plan and prepare for the upcoming updates with "
    "confidence.     Here are the capabilities covered:  "
)
_IFRAME = (
    '<iframe width=\\"800\\" height=\\"500\\" frameborder=\\"0\\" '
    'src=\\"https://www.youtube.com/embed/{id}\\" allow=\\"accelerometer; autoplay; '
    'encrypted-media; gyroscope; picture-in-picture\\" allowfullscreen></iframe>'
)
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _weighted(rng: random.Random, table: dict) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _text(rng: random.Random, low: int, mode: int, high: int) -> str:
    """Prose of about a length drawn from a triangular distribution (characters)."""
    target = rng.triangular(low, high, mode)
    words = [rng.choice(WORDS)]
    length = len(words[0])
    while True:
        word = rng.choice(WORDS)
        if length + 1 + len(word) > target:
            return " ".join(words).capitalize()
        words.append(word)
        length += 1 + len(word)


def _identity(index: int) -> tuple[bool, str]:
    """Whether record `index` is a video, and its address: fixed per index, so that
    a later file can describe the same article (same address, its own title)."""
    fixed = random.Random(index * 7919 + 17)
    if fixed.random() < REAL["video"]:
        video = "".join(fixed.choice(_ID_CHARS) for _ in range(11))
        return True, f"https://youtube.com/watch?v={video}"
    return False, article_url(index)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def real_record(index: int, n: int, rng: random.Random) -> str:
    # The helpers draw from `rng` in a fixed order: reordering the calls below would
    # change every corpus generated for a seed.
    target = index
    if index and rng.random() < REAL["shared address"] / 2:
        target = index - 1 - rng.randrange(min(index, 50))
    video, address = _identity(target)
    name, domain = zipf_choice(rng, PROVIDERS)
    published = dt.datetime(2019, 1, 1) + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
    topics = sorted({zipf_choice(rng, TOPICS) for _ in range(_weighted(rng, REAL["topics"]))})
    title = _escape(_text(rng, *REAL["title chars"]))
    excerpt = _real_excerpt(rng, video)
    lines = _real_head(rng, video, address, title, excerpt, published)
    lines += _real_provider(rng, name, domain)
    lines += ["", "topics:", *[f"  - {topic}" for topic in topics], ""]
    empty_list = rng.random() < BEYOND_SAMPLE["empty list"]
    lines += _real_images(rng, video, address, domain, published, empty_list)
    lines += _real_related(rng, n, published, empty_list)
    secured = base64.b64encode(rng.randbytes(_weighted(rng, REAL["secured bytes"]))).decode()
    lines += [f'secured: "{secured};{base64.b64encode(rng.randbytes(16)).decode()}"', "---", ""]
    return ("\r\n" if rng.random() < REAL["crlf"] else "\n").join(lines)


def _real_excerpt(rng: random.Random, video: bool) -> str:
    if video:
        excerpt = _VIDEO_PROSE + "  \u2022 ".join(
            sentence(rng, rng.randint(2, 4)) for _ in range(3)
        )
    else:
        excerpt = _text(rng, *REAL["excerpt chars"])
        if rng.random() < REAL["html entity"]:
            excerpt = excerpt.replace(" ", " &#8211; ", 1).replace(" ", "&#8217;s ", 1)
        if rng.random() < REAL["escaped quote"]:
            excerpt = excerpt.replace(" ", ' "', 1).replace(" ", '" ', 1)
    excerpt = _escape(excerpt)
    if not video and rng.random() < REAL["escaped line break"]:
        excerpt = excerpt.replace(". ", ".\\r\\n\\r\\n", 1)
    return excerpt


def _real_head(
    rng: random.Random, video: bool, address: str, title: str, excerpt: str, published: dt.datetime
) -> list[str]:
    title_line = f'title: "{title}"'
    roll = rng.random()
    if roll < BEYOND_SAMPLE["unicode escape"]:
        title_line = f'title: "{title} caf\\u00e9"'
    elif roll < BEYOND_SAMPLE["unicode escape"] + BEYOND_SAMPLE["single quoted"]:
        title_line = "title: '" + title.replace("\\", "").replace("'", "''") + " it''s'"
    quality = rng.randint(20, 160)
    lines = [
        "---",
        "category: news",
        title_line,
        f'excerpt: "{excerpt}"',
        f"publishedDateTime: {published:%Y-%m-%dT%H:%M:%SZ}",
        f'originalUrl: "{address}"',
    ]
    if not video:
        lines.append(f'webUrl: "{address}"')
        if rng.random() < REAL["ampWebUrl"]:
            amp, cdn = urls(address)
            lines += [f'ampWebUrl: "{amp}"', f'cdnAmpWebUrl: "{cdn}"']
    lines += [
        f"type: {'video' if video else 'article'}",
        f"quality: {quality}",
        f"heat: {quality if rng.random() < 0.95 else -1}",
        f"published: {'true' if rng.random() < REAL['published'] else 'false'}",
        "",
    ]
    if video:
        lines += [f'featuredContent: "{_IFRAME.format(id=address[-11:])}"', ""]
    return lines


def _real_provider(rng: random.Random, name: str, domain: str) -> list[str]:
    lines = ["provider:", f"  name: {name}", f"  domain: {domain}"]
    if rng.random() < REAL["provider.images"]:
        lines += [
            "  images:",
            f'    - url: "https://smartableai.github.io/news-archive/assets/images/organizations/'
            f'{domain}-50x50.jpg"',
            "      width: 50",
            "      height: 50",
        ]
    return lines


def _real_images(
    rng: random.Random, video: bool, address: str, domain: str, published: dt.datetime,
    empty_list: bool,
) -> list[str]:  # fmt: skip
    if not _weighted(rng, REAL["images"]):
        return ["images: []", ""] if empty_list else []
    if video:
        image = [
            f'  - url: "https://i.ytimg.com/vi/{address[-11:]}/maxresdefault.jpg"',
            "    width: 1280",
            "    height: 720",
            "    isCached: true",
        ]
    else:
        image = [
            f'  - url: "https://{domain}/wp-content/uploads/{published:%Y/%m}/'
            f'{_text(rng, 8, 20, 40).lower().replace(" ", "-")}.jpg"',
            f"    width: {rng.choice([1200, 1280, 1600, 1920])}",
            f"    height: {rng.choice([630, 720, 967, 1600])}",
            "    isCached: true",
        ]
    return ["images:", *image, ""]


def _real_related(
    rng: random.Random, n: int, published: dt.datetime, empty_list: bool
) -> list[str]:
    if rng.random() >= REAL["related"]:
        return ["related: []", ""] if empty_list else []
    lines = ["related:"]
    for _ in range(REAL["related entries"]):
        # One related URL in five points at another main article of the corpus.
        other = rng.randrange(n) if rng.random() < 0.2 else n + rng.randrange(n * 3)
        rname, rdomain = PROVIDERS[other % len(PROVIDERS)]
        rpub = published - dt.timedelta(hours=rng.randrange(72))
        lines += [
            f'  - title: "{_escape(_text(rng, *REAL["title chars"]))}"',
            f'    excerpt: "{_escape(_text(rng, *REAL["excerpt chars"]))}"',
            f"    publishedDateTime: {rpub:%Y-%m-%dT%H:%M:%SZ}",
            f'    webUrl: "{article_url(other)}"',
            "    type: article",
            "    provider:",
            f"      name: {rname}",
            f"      domain: {rdomain}",
            f"    quality: {rng.randint(1, 100)}",
            "    images:",
            *image_lines(rng, "      ", 1),
        ]
    lines.append("")
    return lines


def generate(folder: Path, n: int, seed: int = 1, shape: str = "old") -> list[Path]:
    """Write records 0..n-1 into `folder` (1,000 per subfolder); return their paths."""
    rng = random.Random(seed)
    paths = []
    for index in range(n):
        sub = folder / f"{index // 1000:04d}"
        if index % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{index:07d}.md"
        path.write_bytes(record(index, n, rng, shape).encode("utf-8"))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", choices=SHAPES, default="real")
    args = parser.parse_args()
    generate(args.out, args.n, args.seed, args.shape)


if __name__ == "__main__":
    main()
