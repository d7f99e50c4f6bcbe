r"""A fast path for loading record YAML with rapidyaml, exactly equal to PyYAML or declined.

rapidyaml parses about ten times faster than libyaml, but it reads YAML 1.2 and
its JSON output forgets how a scalar was written, while PyYAML's safe loader (the
reference) reads YAML 1.1, where a plain `yes`, `012` or `2020-08-17` is a bool,
an int or a date. So:

- CRLF line breaks become LF first: PyYAML (libyaml) reads CR LF as one line
  break and gives every break inside a scalar, folded or not, as "\n", so the
  two texts have the same YAML reading; a lone CR (also a break in YAML 1.1) is
  declined;
- anything whose meaning the two could disagree on is declined up front (tags,
  anchors and aliases, merge keys, flow mappings other than an empty `[]` or
  `{}`, tabs, escapes other than \" \\ \/ \n \t \r and \uXXXX, characters
  PyYAML refuses), and the caller falls back to PyYAML. The scan for indicators
  skips scalars quoted whole on their own line (`key: "..."`, `- '...'`): real
  records quote every title, and an `&` or `>` inside quotes is only text;
- the document is parsed by rapidyaml and emitted as JSON into a reused buffer
  (rapidyaml 0.15's `emit_json_malloc` leaks; the in-place emitter does not);
- every string that PyYAML would resolve to something else *if it were plain* is
  looked up in the rapidyaml tree: if it was plain there, PyYAML's own resolver
  and constructor give its value; quoted, it stays a string. Floats, duplicate
  keys and keys that are not plainly strings are declined.

`tests/test_yaml_fast.py` checks the result against PyYAML over generated
documents and the corpus generator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode

try:
    import ryml
except ImportError:  # rapidyaml is optional: without it everything goes through PyYAML
    ryml = None

AVAILABLE = ryml is not None


class Declined(Exception):
    """The fast path cannot promise PyYAML's result for this document.

    `reason` is a short tag (benchmarks/fallbacks.py counts them).
    """

    def __init__(self, reason: str = "unspecified") -> None:
        super().__init__(reason)
        self.reason = reason


_STR = "tag:yaml.org,2002:str"
_resolver = yaml.resolver.Resolver()
_constructor = SafeConstructor()
_FIRST = frozenset(ch for ch in _resolver.yaml_implicit_resolvers if ch)
# First letters whose only readings are booleans and nulls (`yes`, `Off`, `null`...):
# none of those words is longer than five characters, so a longer text starting
# with one of these letters is a string without asking the resolver (most titles
# start with a capital). tests/test_yaml_fast.py checks the words.
_WORD_TAGS = frozenset({"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"})
_LONGEST_WORD = 5
_WORD_FIRST = frozenset(
    ch
    for ch, rules in _resolver.yaml_implicit_resolvers.items()
    if ch and ch.isalpha() and {tag for tag, _ in rules} <= _WORD_TAGS
)

# Characters PyYAML's reader refuses, line breaks only YAML 1.1 knows (NEL, LS, PS
# and a lone CR), BOMs and tabs (whose handling differs in corners between the two
# parsers).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)
# Node properties and indicators whose YAML 1.1/1.2 readings can differ, where a
# node can start (after a space, a line break or flow punctuation): tags, anchors,
# aliases, reserved characters, block scalars, complex keys, directives, flow
# mappings, and ']' or ',' (which PyYAML never lets start a plain scalar).
_INDICATORS = "!&*@`%|>?{}],"
_NODE_START_BEFORE = frozenset(" \n[]{},")
# Inside flow sequences YAML 1.1 and 1.2 read ':' differently (PyYAML refuses
# `[:x]` and `[a:]`, rapidyaml reads them), so any ':' there declines
# (_colon_in_flow). The regex is only the quick test for a ':' after a '['.
_COLON_AFTER_BRACKET = re.compile(r"\[[^:]*:", re.DOTALL)


def _indicator(text: str, chars: str = _INDICATORS) -> str | None:
    """The first of `chars` in `text` where a node can start, or None."""
    # str.find per character is much faster than one regex over the whole text.
    for char in chars:
        index = text.find(char)
        while index != -1:
            if index == 0 or text[index - 1] in _NODE_START_BEFORE:
                return char
            index = text.find(char, index + 1)
    if chars is _INDICATORS and "[" in text and _colon_in_flow(text):
        return ":"
    return None


def _colon_in_flow(text: str) -> bool:
    """Whether a ':' stands inside a flow sequence of `text`, quoted scalars aside.

    A regex that stops at the first ']' missed `["[x]", :0]`, whose ']' is inside
    quotes (found by tests/test_yaml_fast.py's generated documents). Here brackets
    nest and quoted scalars (a quote where a node starts) are skipped; a quote or a
    bracket that never closes counts as a colon, so the document goes to PyYAML.
    """
    if _COLON_AFTER_BRACKET.search(text) is None:
        return False
    start = text.find("[")
    while start != -1:
        depth, index, end = 0, start, len(text)
        while index < end:
            char = text[index]
            if char in "\"'" and text[index - 1] in _NODE_START_BEFORE:
                index = _after_quoted(text, index)
                if index < 0:
                    return True
                continue
            if char == ":":
                return True
            depth += (char == "[") - (char == "]")
            index += 1
            if depth == 0:
                break
        if depth:
            return True
        start = text.find("[", index)
    return False


def _after_quoted(text: str, index: int) -> int:
    """The index after the quoted scalar that starts at `index`; -1 if it never ends."""
    quote = text[index]
    index += 1
    while index < len(text):
        char = text[index]
        escaped = char == "\\" if quote == '"' else text[index : index + 2] == "''"
        if escaped:  # \x in double quotes, '' in single ones
            index += 2
        elif char == quote:
            return index + 1
        else:
            index += 1
    return -1


# A line that is one scalar quoted whole (or an empty flow collection), as the
# value of a plain word key or a sequence entry: `  - url: "https://..."`. Its
# closing quote ends the line, so it opens no multi-line scalar, and nothing
# between its quotes can start a node.
# From Python 3.11, runs of plain characters are taken whole and never given back
# (possessive `++`, `*+`): twice as fast on long titles, and the same matches, as
# a quoted scalar's end is fixed by its closing quote.
_RUN, _RUNS = ("++", "*+") if sys.version_info >= (3, 11) else ("", "*")
_QUOTED_LINE = re.compile(
    r"""^( *(?:- +)*(?:[A-Za-z0-9_][\w.-]*: +)?)"""
    rf"""(?:"(?:[^"\\\n]{_RUN}|\\.){_RUNS}"|'(?:[^'\n]{_RUN}|''){_RUNS}'|\[\]|\{{\}})( *)$""",
    re.MULTILINE,
)


def _unsafe_syntax(text: str) -> str | None:
    """An indicator that may make the two parsers read the document differently, or None.

    `text` has no NUL (declined before), so NUL can stand in for a quoted scalar.
    """
    found = _indicator(text)
    if found is None:
        return None
    blanked = _QUOTED_LINE.sub("\\1\x00\\2", text)
    if _indicator(blanked, "\"'") is not None:
        # A quote that can open a scalar is left (one spanning lines, or followed
        # by a comment): this line-wise view cannot tell quoted text from the
        # rest, so every indicator counts.
        return found
    return _indicator(blanked)


# A quoted scalar followed by ':' (a quoted key), and the key itself, tried from
# every opening quote (lookahead: overlapping): PyYAML refuses a key that spans
# lines, rapidyaml reads it.
_QUOTE_COLON = re.compile(r"[\"'] *:")
_QUOTED_KEY = re.compile(r"""(?=("(?:[^"\\]|\\[\s\S])*"|'(?:[^']|'')*') *:)""")


def _multi_line_key(text: str) -> bool:
    if _QUOTE_COLON.search(text) is None:
        return False
    return any("\n" in match.group(1) for match in _QUOTED_KEY.finditer(text))


# Escapes other than \" \\ \/ \n \t \r and \u of a character that is no surrogate
# (a lone surrogate is an error in PyYAML): their decoding is where parsers drift.
_UNSAFE_ESCAPE = re.compile(r'\\(?!["\\/ntr]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4})')

_buffer = bytearray(64 * 1024)
_quiet_stderr = False


def silence_stderr() -> None:
    """Call in worker processes: rapidyaml prints parse errors on fd 2 before raising."""
    global _quiet_stderr
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    _quiet_stderr = True


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """rapidyaml's C++ code writes its errors (`emit.def.hpp:1372: ERROR ...`) to fd 2
    before raising, and has no Python hook to stop it: point fd 2 at /dev/null
    around every call into it (parser processes do so once, silence_stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _emit_json(tree: Any) -> str:
    global _buffer
    root = tree.root_id()
    failed, size = ryml.emit_json_to_substr(tree, root, _buffer)
    if failed:
        _buffer = bytearray(max(size, 2 * len(_buffer)))
        failed, size = ryml.emit_json_to_substr(tree, root, _buffer)
    # Decoded here, in one step: json.loads would first guess the encoding of bytes.
    return str(memoryview(_buffer)[:size], "utf-8")


_IMPLICIT = {ch: tuple(rules) for ch, rules in _resolver.yaml_implicit_resolvers.items() if ch}
_plain_keys: set[str] = set()


def _plain_tag(text: str) -> str:
    """The tag PyYAML's resolver gives `text` as a plain scalar (Resolver.resolve, inlined)."""
    if not text:
        return "tag:yaml.org,2002:null"
    for tag, pattern in _IMPLICIT.get(text[0], ()):
        if pattern.match(text):
            return tag
    return _STR


Found = list[tuple[tuple[Any, ...], Any, Any]]


def _collect(value: dict[str, Any]) -> tuple[Found, int]:
    """The strings PyYAML would read as something else if they were plain (with
    their paths, containers and keys), and the number of nodes in `value`.

    The count is the root plus every entry of every mapping and sequence: the
    rapidyaml tree of the same document has as many nodes unless a duplicate key
    collapsed two entries into one (the default JSON decoder keeps the last; a
    hook per mapping to catch it cost a quarter of the decoding). Floats are
    declined, as PyYAML's and JSON's readings of them differ in corners. No
    recursion: depth costs nothing here.
    """
    found: Found = []
    count = 1
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, container = stack.pop()
        count += len(container)
        if type(container) is dict:
            items: Any = container.items()
            for key in container:
                if key not in _plain_keys:
                    if _plain_tag(key) != _STR:
                        raise Declined("key not a plain string")
                    if len(_plain_keys) < 10_000:
                        _plain_keys.add(key)
        else:
            items = enumerate(container)
        for key, item in items:
            kind = type(item)
            if kind is str:
                first = item[:1]
                if not first or (
                    first in _FIRST
                    and (len(item) <= _LONGEST_WORD or first not in _WORD_FIRST)
                    and _plain_tag(item) != _STR
                ):
                    found.append(((*path, key), container, key))
            elif kind is dict or kind is list:
                stack.append(((*path, key), item))
            elif kind is float:
                raise Declined("float")
    return found, count


def _node(tree: Any, path: tuple[Any, ...]) -> int:
    node = tree.root_id()
    for step in path:
        node = (
            tree.find_child(node, step.encode("utf-8"))
            if isinstance(step, str)
            else tree.child(node, step)
        )
    return node


# The timestamp every record has (`publishedDateTime: 2020-09-20T01:38:00Z`), built
# as PyYAML's construct_yaml_timestamp builds it, without its regex and group dict.
_UTC_SECONDS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_UTC = dt.timezone.utc


def _plain_value(text: str) -> Any:
    stamp = _UTC_SECONDS.fullmatch(text)
    if stamp is not None:
        try:
            return dt.datetime(*map(int, stamp.groups()), tzinfo=_UTC)
        except ValueError:  # e.g. 2020-02-30: PyYAML reports it, with its line
            raise Declined("invalid value") from None
    tag = _plain_tag(text)
    construct = SafeConstructor.yaml_constructors.get(tag)
    if construct is None:
        raise Declined("no constructor")  # e.g. a plain "=": PyYAML errors
    try:
        return construct(_constructor, ScalarNode(tag, text))
    except Exception:  # e.g. 2020-02-30: PyYAML reports it, with its line
        raise Declined("invalid value") from None


def load(text: str) -> dict[str, Any]:
    """PyYAML's safe-load result for a mapping document, or Declined."""
    if ryml is None:
        raise Declined("no rapidyaml")
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # a lone CR left over is declined below
    if _UNSAFE_CHARS.search(text):
        raise Declined("character")
    if text.startswith(("---", "...")) or "\n---" in text or "\n..." in text:
        raise Declined("document marker")  # one document per record
    if "<<" in text:
        raise Declined("merge key")
    indicator = _unsafe_syntax(text)
    if indicator is not None:
        raise Declined(f"indicator {indicator}")
    if _multi_line_key(text):
        raise Declined("quoted key over lines")
    if "\\" in text and _UNSAFE_ESCAPE.search(text):
        raise Declined("escape")
    data = text.encode("utf-8")
    if _quiet_stderr:  # a parser process: nothing to silence per call
        return _load_parsed(data)
    with _stderr_silenced():
        return _load_parsed(data)


def _load_parsed(data: bytes) -> dict[str, Any]:
    try:
        tree = ryml.parse_in_arena(data)
        value = json.loads(_emit_json(tree))
    except Exception:  # parse errors, depth limits: PyYAML gives the message
        raise Declined("parse error") from None
    if type(value) is not dict:
        raise Declined("not a mapping")
    found, count = _collect(value)
    if count != tree.size():
        raise Declined("duplicate key")  # PyYAML (strict) names it
    for path, container, key in found:
        node = _node(tree, path)
        if node == ryml.NONE:
            raise Declined("node not found")
        if not tree.is_val_quoted(node):
            text = container[key]
            if str(tree.val(node), "utf-8") != text:
                # rapidyaml's JSON writes plain nan, inf and -inf as .nan, .inf and
                # -.inf (floats to PyYAML, where the words themselves are text).
                raise Declined("scalar rewritten")
            container[key] = _plain_value(text)
    return value
