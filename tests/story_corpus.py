"""A corpus of record files with planted copies, for the stories tests and benchmark.

Originals are distinct press releases (other companies, products, fields and
sentences); each planted copy republishes one under another provider, a little
later, with a prefix, a provider suffix, changed case or a cut excerpt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

WORDS = [
    "cloud",
    "data",
    "platform",
    "customers",
    "teams",
    "apps",
    "automation",
    "analytics",
    "security",
    "partners",
    "workflow",
    "mobile",
    "portal",
    "dashboard",
    "integration",
    "compliance",
    "schedule",
    "invoice",
    "supply",
    "chain",
    "retail",
    "health",
    "banking",
    "energy",
    "logistics",
    "education",
    "city",
    "public",
    "sector",
    "model",
    "release",
    "preview",
    "update",
    "feature",
    "connector",
    "license",
    "region",
    "growth",
    "market",
    "agency",
]
PROVIDERS = [
    ("Digital Journal", "digitaljournal.com"), ("Yahoo Finance", "finance.yahoo.com"),
    ("MarketWatch", "marketwatch.com"), ("Al Bawaba News", "albawaba.com"),
    ("StreetInsider", "streetinsider.com"), ("Benzinga", "benzinga.com"),
    ("The Verge", "theverge.com"), ("ZDNet", "zdnet.com"),
]  # fmt: skip


@dataclass
class Corpus:
    folder: Path
    originals: int = 0
    # Planted copies per provider domain (copies are never their story's first).
    copies: dict[str, int] = field(default_factory=dict)
    # Provider domain of each article, by file name.
    provider_of: dict[str, str] = field(default_factory=dict)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _record(title: str, excerpt: str, body: str, url: str, provider: tuple[str, str],
            published: str, topic: str) -> str:  # fmt: skip
    lines = [
        "---",
        f"title: {json.dumps(title)}",
        f"excerpt: {json.dumps(excerpt)}",
        f"publishedDateTime: {published}",
        f"webUrl: {json.dumps(url)}",
        "type: article",
        "provider:",
        f"  name: {provider[0]}",
        f"  domain: {provider[1]}",
        "topics:",
        f"  - {topic}",
        "---",
        body,
        "",
    ]
    return "\n".join(lines)


def write_corpus(folder: Path, originals: int, copies: int, *, seed: int = 7,
                 topic: str = "Power Apps") -> Corpus:  # fmt: skip
    """`originals` distinct articles and `copies` planted copies of some of them."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(folder, originals)
    made = []
    for n in range(originals):
        provider = rng.choice(PROVIDERS)
        company = f"Company{n}"
        title = f"{company} {rng.choice(['releases', 'launches', 'announces'])} {_sentence(rng, 5)[:-1]}"
        excerpt = f"{company} said today that " + _sentence(rng, 25)
        body = " ".join(_sentence(rng, 14) for _ in range(6))
        day = 1 + n % 27
        published = f"2021-05-{day:02d}T08:00:00Z"
        name = f"original-{n:05d}.md"
        (folder / name).write_text(
            _record(
                title, excerpt, body, f"https://{provider[1]}/news/{n}", provider, published, topic
            ),
            encoding="utf-8",
        )
        corpus.provider_of[name] = provider[1]
        made.append((title, excerpt, body, provider, day))
    for c in range(copies):
        title, excerpt, body, provider, day = made[c % max(1, originals // 2)]
        other = rng.choice([p for p in PROVIDERS if p != provider])
        change = c % 4
        if change == 0:
            title = "Re-transmission: " + title
        elif change == 1:
            title = f"{title} - {other[0]}"
        elif change == 2:
            title = title.upper()
        else:
            excerpt = excerpt[: len(excerpt) * 2 // 3]
        name = f"copy-{c:05d}.md"
        (folder / name).write_text(
            _record(
                title,
                excerpt,
                body,
                f"https://{other[1]}/syndicated/{c}",
                other,
                f"2021-05-{day:02d}T{9 + c % 12:02d}:30:00Z",
                topic,
            ),
            encoding="utf-8",
        )
        corpus.provider_of[name] = other[1]
        corpus.copies[other[1]] = corpus.copies.get(other[1], 0) + 1
    return corpus
