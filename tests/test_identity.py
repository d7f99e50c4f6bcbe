"""Article identity is ural's normalize_url, also on the AMP-cache shortcut, with
YouTube video links first made one by ural's own YouTube normalization."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from ural import normalize_url

from archive.identity import _youtube_video, plain_url_key, url_key
from archive.ingest.records import parse_record

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
                    assert url_key(url) == normalize_url(_youtube_video(url) or url.strip()), url
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


# The plain-URL shortcut must give ural's key whenever it gives one. URLs are built
# from pieces that sit on both sides of its grammar: irrelevant and AMP subdomains,
# punycode, ports, users, escapes, dot segments, AMP suffixes, index pages, queries,
# fragments, redirect wrappers.
_labels = st.sampled_from(
    ["www", "www2", "m", "mobile", "amp", "amp-news", "news", "Example", "co", "xn--bcher-kva",
     "a-b", "-x", "bc", "marfeelcache", "cdn", "ampproject", "wwwx", "mm", "index"]
)  # fmt: skip
_tlds = st.sampled_from(["com", "org", "fr", "COM", "uk"])
_segments = st.sampled_from(
    ["amp", "AMP", "index.html", "index", "default.aspx", "Index.html", "a.amp.html", "a.amp",
     "story-1", "..", ".", "", "~x", "%41", "a%2f", "é", "2020", "x.html", "amp.html", "c", "s",
     "a b", "a.b.c", "_", "-", "x.amp", "amp.x"]
)  # fmt: skip
_tails = st.sampled_from(["", "", "", "/", "?utm_source=x", "?a=1", "?url=https://x.com/a",
                          "#frag", "#/route", "?", "#"])  # fmt: skip
_schemes = st.sampled_from(["https://", "http://", "HTTP://", "Https://", "ftp://", "//", ""])
_before_host = st.sampled_from(["", "", "", "user:pw@", "user@"])
_after_host = st.sampled_from(["", "", "", ":8080", ":443", ":80", "."])


@given(
    _schemes,
    _before_host,
    st.lists(_labels, min_size=0, max_size=3),
    _tlds,
    _after_host,
    st.lists(_segments, max_size=5),
    _tails,
)
def test_plain_url_shortcut_agrees_with_ural(scheme, user, labels, tld, port, segments, tail):
    url = f"{scheme}{user}{'.'.join([*labels, tld])}{port}"
    if segments:
        url += "/" + "/".join(segments)
    url += tail
    key = plain_url_key(url)
    if key is not None:
        assert key == normalize_url(url), url


def test_plain_url_shortcut_takes_ordinary_urls():
    for url in [
        "https://www.news0.example.com/amp/2020/story-0",
        "https://example.com/",
        "http://m.example.co.uk/a/b/index.html",
        "https://amp-site.example/x.amp.html",
    ]:
        assert plain_url_key(url) == normalize_url(url), url
    for url in [
        "https://example.com/a?utm_source=x",
        "https://xn--bcher-kva.example/a",
        "https://example.com:8080/a",
        "https://example.com/a/../b",
        "https://example.com/caf%C3%A9",
        "https://bc.marfeelcache.com/amp/example.com/a",
    ]:
        assert plain_url_key(url) is None, url


def test_every_link_to_one_youtube_video_is_one_key() -> None:
    forms = [
        "https://youtube.com/watch?v=WJk-Y8LQlfE",
        "https://www.youtube.com/watch?v=WJk-Y8LQlfE&feature=share",
        "http://m.youtube.com/watch?v=WJk-Y8LQlfE&t=10",
        "https://youtu.be/WJk-Y8LQlfE",
        "https://www.youtube.com/embed/WJk-Y8LQlfE?rel=0",
    ]
    assert {url_key(form) for form in forms} == {"youtube.com/watch?v=WJk-Y8LQlfE"}
    # Other YouTube pages and look-alike hosts keep ural's key.
    for other in ("https://www.youtube.com/channel/UCxyz", "https://youtube.example.com/watch?v=a"):
        assert url_key(other) == normalize_url(other)


# ural cuts an ID longer than 11 characters; a shorter one is not a video.
video_ids = st.from_regex(r"[A-Za-z0-9_-]{9,14}", fullmatch=True)


@given(
    st.sampled_from(["http", "https"]),
    st.sampled_from(["", "www."]),
    st.sampled_from(["watch?v=", "embed/"]),
    video_ids,
)
def test_canonical_watch_url_shortcut_agrees_with_ural(scheme, www, form, video) -> None:
    url = f"{scheme}://{www}youtube.com/{form}{video}"
    assert url_key(url) == normalize_url(_youtube_video(url) or url)


def test_plain_url_shortcut_uses_urals_own_patterns() -> None:
    """archive.identity copies three of ural's patterns so that a small import need not
    import ural; a ural release that changes one must fail here, not change keys."""
    from ural.infer_redirection import REDIRECTION_DOMAINS_RE
    from ural.normalize_url import AMP_SUFFIXES_RE, IRRELEVANT_SUBDOMAIN_AMP_RE

    from archive import identity

    for ours, urals in (
        (identity._REDIRECTION_DOMAINS, REDIRECTION_DOMAINS_RE),
        (identity._AMP_SUFFIXES, AMP_SUFFIXES_RE),
        (identity._IRRELEVANT_SUBDOMAIN_AMP, IRRELEVANT_SUBDOMAIN_AMP_RE),
    ):
        assert (ours.pattern, ours.flags) == (urals.pattern, urals.flags)
