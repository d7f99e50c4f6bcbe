"""Article identity is ural's normalize_url, also on the AMP-cache shortcut."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from ural import normalize_url

from archive.identity import url_key
from archive.records import parse_record

ROOT = Path(__file__).resolve().parent.parent


def test_url_keys_equal_ural_on_the_generated_corpus_and_sample_data():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import record

    rng = random.Random(3)
    texts = [record(i, 100, rng) for i in range(100)]
    texts += [
        p.read_text(encoding="utf-8") for p in (ROOT / "data").iterdir() if p.name != "README"
    ]
    checked = 0
    for text in texts:
        parsed = parse_record(text.encode("utf-8"))
        for article in (parsed.article, *parsed.related):
            for url in (article.url, article.amp_url, article.cdn_amp_url):
                if url:
                    assert url_key(url) == normalize_url(url.strip()), url
                    checked += 1
    assert checked > 1000


hosts = st.sampled_from(["www.example.com", "Example.org", "m.news.example.net", "amp.site.fr"])
paths = st.from_regex(r"(/[a-zA-Z0-9._~-]{0,8}){0,4}/?", fullmatch=True)
queries = st.from_regex(
    r"(\?([a-z_]{1,6}=[a-zA-Z0-9]{0,4})(&[a-z_]{1,6}=[a-zA-Z0-9]{0,4}){0,3})?", fullmatch=True
)


@given(hosts, paths, queries, st.sampled_from(["c", "v"]), st.booleans())
def test_amp_cache_urls_get_uras_key(host, path, query, kind, secure):
    target = f"{host}{path}{query}"
    cache = f"https://{host.replace('.', '-')}.cdn.ampproject.org/{kind}/{'s/' if secure else ''}{target}"
    assert url_key(cache) == normalize_url(cache)
    assert url_key("https://" + target) == normalize_url("https://" + target)
