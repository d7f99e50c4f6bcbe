"""The server's own log: one line on stderr per refused request or query."""

from __future__ import annotations

import sys

# A log line shows at most this much of a path, a query or a message.
SHOWN_CHARACTERS = 200
# Set on an exception whose line is written, so that the page that reports it
# does not write a second one.
LOGGED = "_archive_logged"


def shown(text: str) -> str:
    """`text` on one line, control characters escaped, cut to SHOWN_CHARACTERS."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.split()))
    if len(text) > SHOWN_CHARACTERS:
        return text[:SHOWN_CHARACTERS] + f"... ({len(text)} characters)"
    return text


def log(line: str, exception: BaseException | None = None) -> None:
    print(line, file=sys.stderr, flush=True)
    if exception is not None:
        setattr(exception, LOGGED, True)


def logged(exception: BaseException) -> bool:
    """Whether `exception`, or the one it was raised while handling, has its line."""
    context = exception.__context__
    return getattr(exception, LOGGED, False) or getattr(context, LOGGED, False)
