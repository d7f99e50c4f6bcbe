"""Hints for a usage error that has an obvious fix: a topic or provider given as an
argument (`archive providers AI`) where the command takes it as an option."""

from __future__ import annotations

import re

import click

from ..identity import domain_key, topic_key
from ..query.names import provider_domains, topic_names

_EXTRA = re.compile(r"unexpected extra arguments? \((.+)\)")


def extra_argument_hint(exc: click.ClickException) -> str | None:
    """`did you mean --topic X?` when the extra argument names a topic (or provider)
    of the archive and the command has that option; None otherwise."""
    ctx = getattr(exc, "ctx", None)
    found = _EXTRA.search(exc.format_message())
    if ctx is None or found is None:
        return None
    options = {name for param in ctx.command.params for name in getattr(param, "opts", ())}
    db = (ctx.find_root().obj or {}).get("db") or ""
    value = found.group(1)
    quoted = f"'{value}'" if re.search(r"[\s'\"]", value) else value
    if "--topic" in options and any(
        topic_key(name) == topic_key(value) for name in topic_names(db, value.strip())
    ):
        return f"did you mean --topic {quoted}?"
    if "--provider" in options and domain_key(value) in provider_domains(db, value):
        return f"did you mean --provider {quoted}?"
    return None
