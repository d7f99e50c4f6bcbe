"""When are two URLs, providers or topics the same thing?

These keys are what the unique constraints hold, so changing a rule here changes
which rows merge: it needs a migration that recomputes the keys.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from functools import lru_cache

from .messages import shown

# AMP cache URLs (https://www-x-com.cdn.ampproject.org/c/s/www.x.com/a) are the
# redirects ural itself unwraps first (ural.infer_redirection), with this pattern.
_AMP_CACHE = re.compile(r"\.ampproject\.org/[cv]/(?:s/)?", re.I)


def url_key(url: str) -> str:
    """The identity of an article URL.

    ural drops what media researchers treat as noise: scheme, `www.`, host case,
    fragments, tracking parameters (utm_*, fbclid, gclid, ...), AMP wrappers,
    parameter order and a trailing slash.
    """
    # Unwrapping the AMP cache URL here gives ural's own result, and turns the
    # record's cdnAmpWebUrl into its ampWebUrl, whose key is usually cached already.
    parts = _AMP_CACHE.split(url.strip(), 1)
    if len(parts) > 1 and parts[1]:
        return _normalized("https://" + parts[1])
    return _normalized(url)


# Normalizing is the costliest step of parsing a record (about 25 µs a URL through
# ural), and popular articles recur in many records' related entries; the cache is
# bounded.
@lru_cache(maxsize=8_192)
def _normalized(url: str) -> str:
    watch = _YOUTUBE_WATCH.fullmatch(url)
    if watch is not None:
        return "youtube.com/watch?v=" + watch.group(1)
    if "youtu" in url.lower():
        video = _youtube_video(url)
        if video is not None:
            url = video
    key = plain_url_key(url)
    if key is not None:
        return key
    from ural import normalize_url  # loaded on first use: query commands rarely need it

    try:
        key = normalize_url(url.strip())
    except Exception as exc:  # ural raises assorted errors on malformed URLs
        raise ValueError(f"not a valid URL: {shown(url)}") from exc
    if not key:
        raise ValueError(f"not a valid URL: {shown(url)}")
    return key


# A video's canonical watch URL and its plain embed URL, the forms video records
# mostly name: ural's key for both (through _youtube_video and normalize_url, ~50 µs,
# and importing ural's YouTube module costs more than a small import's records) is
# youtube.com/watch?v=ID. ural cuts a longer ID to its first 11 characters (a common
# copy mistake), and so does this; tests/test_identity.py checks that they agree.
_YOUTUBE_WATCH = re.compile(
    r"https?://(?:www\.)?youtube\.com/(?:watch\?v=|embed/)([A-Za-z0-9_-]{11})[A-Za-z0-9_-]*"
)


def _youtube_video(url: str) -> str | None:
    """A YouTube video's canonical watch URL, whatever link to it was written.

    ural's normalize_url keeps youtu.be/ID, /embed/ID and watch?v=ID apart; its
    youtube module knows them for the same video. Video records name their video
    in any of these forms (originalUrl, the embed in featuredContent, shares).
    """
    from ural.youtube import YoutubeVideo, is_youtube_url, normalize_youtube_url, parse_youtube_url

    try:
        if is_youtube_url(url) and isinstance(parse_youtube_url(url), YoutubeVideo):
            return normalize_youtube_url(url)
    except Exception:  # ural raises assorted errors on malformed URLs: not a video then
        return None
    return None


def domain_key(domain: str) -> str:
    key = domain.strip().lower().rstrip(".")
    if "://" in key:
        key = key.split("://", 1)[1]
    key = key.split("/", 1)[0]
    return key[4:] if key.startswith("www.") else key


def provider_key(name: str | None, domain: str | None) -> str:
    """Providers are one per domain; a provider without a domain is known by its name."""
    if domain:
        return domain_key(domain)
    return "name:" + text_key(name or "")


def topic_key(name: str) -> str:
    return text_key(name)


def text_key(name: str) -> str:
    """A name as it is matched: trimmed, inner spaces collapsed, case-folded, and in
    Unicode's compatibility form (NFKC).

    Names that read the same are the same: a precomposed é and e + a combining
    accent, a full-width Ａ and A, the ligature ﬁ and fi. NFKC rather than NFC
    because these keys only match; the display keeps the first spelling seen.
    Normalized before and after case folding, as Unicode's caseless matching does
    (folding can produce characters that need normalizing again).
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


# Most URLs are a scheme, a plain host name and plain path segments: no port, user,
# query, fragment, percent escapes, dot segments or punycode. For those, ural's
# normalize_url reduces to a few steps, done here with ural's own patterns in the
# order ural applies them, about ten times faster. Anything else returns None and
# goes through ural itself; tests/test_identity.py checks that both always agree.
_PLAIN_URL = re.compile(
    r"(?i:https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"((?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*)/?"
)
# ural's own patterns, copied: importing ural compiles a few hundred patterns (0.2-0.3 s
# of CPU), more than a small import's records cost. tests/test_identity.py checks that
# these are still ural's (pattern and flags), so a ural upgrade cannot change keys silently.
_REDIRECTION_DOMAINS = re.compile(  # ural.infer_redirection.REDIRECTION_DOMAINS_RE
    r"(?:\.ampproject\.org/[cv]/(?:s/)?|bc\.marfeelcache\.com/amp/|bc\.marfeel\.com/)", re.I
)
_AMP_SUFFIXES = re.compile(  # ural.normalize_url.AMP_SUFFIXES_RE
    r"(?:\.amp(?=\.html$)|\.amp/?$|(?<=/)amp/?$)", re.I
)
_IRRELEVANT_SUBDOMAIN_AMP = re.compile(  # ural.normalize_url.IRRELEVANT_SUBDOMAIN_AMP_RE
    r"\b(?:www\d?|mobile|amp|m)\.", re.I
)


def plain_url_key(url: str) -> str | None:
    """ural's key for a plain URL, or None when the URL is not plain."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    host = match.group(1).lower()
    if "xn--" in host or _REDIRECTION_DOMAINS.search(url):
        return None  # punycode and known redirect wrappers: ural's own way
    path = _AMP_SUFFIXES.sub("", match.group(2))  # normpath already dropped the "/" at the end
    head, _, last = path.rpartition("/")
    if last and posixpath.splitext(last)[0] in ("index", "default"):
        path = head
    if path == "/":
        path = ""
    host = _IRRELEVANT_SUBDOMAIN_AMP.sub("", host)
    if host.startswith("amp-"):
        host = host[4:]
    return host + path.rstrip("/")
