"""When are two URLs, providers or topics the same thing?

These keys are what the unique constraints hold, so changing a rule here changes
which rows merge: it needs a migration that recomputes the keys.
"""

from __future__ import annotations

import re
from functools import lru_cache

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


# Normalizing is the costliest step of parsing a record (about 25 µs a URL), and
# popular articles recur in many records' related entries; the cache is bounded.
@lru_cache(maxsize=8_192)
def _normalized(url: str) -> str:
    from ural import normalize_url  # loaded on first use: query commands rarely need it

    try:
        key = normalize_url(url.strip())
    except Exception as exc:  # ural raises assorted errors on malformed URLs
        raise ValueError(f"not a valid URL: {url!r}") from exc
    if not key:
        raise ValueError(f"not a valid URL: {url!r}")
    return key


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
    return "name:" + " ".join((name or "").split()).casefold()


def topic_key(name: str) -> str:
    return " ".join(name.split()).casefold()
