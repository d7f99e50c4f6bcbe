"""Why an answer is empty: the --topic and --provider values that name nothing in
the archive, with the nearest names it has."""

from __future__ import annotations

import difflib

from .. import identity
from .filters import Filters
from .reader import Reader
from .sql import Sql, provider_keys


def unknown_names(conn: Reader, filters: Filters) -> list[str]:
    """Notes on the filter values that name no topic or provider in the archive,
    each with the nearest names it has (at most three): why an answer is empty."""
    notes = []
    if filters.topics:
        known = {key: name for key, name in Sql(conn).all("SELECT key, name FROM topic")}
        for topic in filters.topics:
            if identity.topic_key(topic) not in known:
                notes.append(_unknown("topic", topic, identity.topic_key(topic), known))
    if filters.providers:
        rows = Sql(conn).all("SELECT key, name, domain FROM provider")
        keys = {key for key, _name, _domain in rows}
        # Suggest by domain (what --provider takes), or by name for a provider
        # without one; match a typed name against names too.
        by_text: dict[str, str] = {}
        for _key, name, domain in rows:
            if domain:
                by_text.setdefault(identity.domain_key(domain), identity.domain_key(domain))
            if name:
                by_text.setdefault(identity.text_key(name), domain or name)
        for value in filters.providers:
            if not keys.intersection(provider_keys([value])):
                notes.append(_unknown("provider", value, identity.domain_key(value), by_text))
    return notes


def close_names(key: str, known: dict[str, str]) -> list[str]:
    """The names (at most three) whose keys are nearest `key`, from {key: name}; the
    CLI's notes and the web timeline's "did you mean" both use it."""
    # An exact key is a provider's name, where --provider takes its domain.
    close = [key] if key in known else difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    return list(dict.fromkeys(known[k] for k in close))


def _unknown(kind: str, value: str, key: str, known: dict[str, str]) -> str:
    suggestions = close_names(key, known)
    note = f'no {kind} "{value}"'
    if suggestions:
        return f"{note}; did you mean: {', '.join(suggestions)}?"
    return f"{note} (archive {kind}s lists them)"
