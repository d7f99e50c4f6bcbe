"""Load one untrusted YAML document safely, keeping node positions for error messages.

PyYAML's safe loader never runs code, but on its own it still lets a hostile file
hurt us: the C composer recurses per nesting level and can crash the process on
very deep documents, aliases can expand a few hundred bytes into gigabytes once a
caller walks the result, and duplicate keys are silently collapsed. So a document
is first scanned as a flat event stream (no recursion, constant memory) to bound
depth and aliases, and only then composed and constructed.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode

from ..errors import RecordError
from ..messages import cut, shown
from . import yamlfast

try:  # libyaml is ~8x faster; the pure-Python loader gives identical results.
    from yaml._yaml import CParser

    _PARSING: tuple[type, ...] = (CParser,)
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml.composer import Composer as _Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyParser(Reader, Scanner, Parser, _Composer):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            _Composer.__init__(self)

    _PARSING = (_PyParser,)

MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _why(exc: Exception) -> str:
    """Why a constructor refused a value, in words rather than Python's reprs."""
    text = str(exc)
    if "integer string conversion" in text:
        return f"more than {sys.get_int_max_str_digits():,} digits"
    if "timedelta" in text:
        return "the UTC offset must be less than 24 hours"
    if "year" in text and "out of range" in text:
        return "the year must be from 1 to 9999"
    if text.startswith(("invalid literal", "could not convert")):
        return "not a number"
    return cut(text.split(":")[0], 60)  # what follows a colon is usually the value again


class _StrictConstructor(SafeConstructor):
    """SafeConstructor that refuses duplicate mapping keys instead of keeping the last,
    and reports values its constructors cannot make (`!!int abc`, `2020-02-30`) as
    YAML errors at the value's position instead of Python exceptions."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            kind = (node.tag or "").rsplit(":", 1)[-1]
            value = shown(node.value) if isinstance(node.value, str) else "this"
            raise ConstructorError(
                None, None, f"not a valid {kind} value: {value} ({_why(exc)})", node.start_mark
            ) from None

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # unhashable keys are reported by SafeConstructor itself
                if duplicate:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {shown(key)}",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


_StrictConstructor.add_constructor("tag:yaml.org,2002:map", SafeConstructor.construct_yaml_map)


class _Loader(*_PARSING, _StrictConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        _PARSING[0].__init__(self, stream)
        _StrictConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def _line_of(mark: Any) -> int | None:
    return None if mark is None else mark.line + 1


def _scan(text: str, line_offset: int) -> bool:
    """Bound depth and alias count; return whether the document uses aliases."""
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise RecordError(
                        f"YAML nested deeper than {MAX_DEPTH} levels",
                        line=_line_of(event.start_mark) + line_offset,
                    )
            elif isinstance(event, _CLOSE):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise RecordError(
                        f"YAML uses more than {MAX_ALIASES} aliases",
                        line=_line_of(event.start_mark) + line_offset,
                    )
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, line_offset) from None
    except yaml.YAMLError as exc:
        raise _other_error(exc, text, line_offset) from None
    return aliases > 0


def _check_expansion(root: Node, line_offset: int) -> None:
    """Refuse alias graphs that are cyclic or expand to too many nodes."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise RecordError(
                "YAML alias refers to itself", line=_line_of(node.start_mark) + line_offset
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > MAX_EXPANDED_NODES:
            raise RecordError(
                f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes",
                line=_line_of(node.start_mark) + line_offset,
            )
        sizes[key] = total
        return total

    size(root)


def _other_error(exc: yaml.YAMLError, text: str, line_offset: int) -> RecordError:
    """One line for errors without a mark, such as a character PyYAML refuses."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        return RecordError(
            f"invalid YAML: character #x{exc.character:04x} is not allowed", line=line
        )
    return RecordError("invalid YAML: " + " ".join(str(exc).split()))


def _syntax_error(exc: yaml.MarkedYAMLError, line_offset: int) -> RecordError:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
        # An unclosed quote or bracket is found at the end of the text; the user
        # needs the line where it was opened.
        mark = exc.context_mark
    reason = " ".join(part for part in (exc.context, exc.problem) if part)
    line = _line_of(mark)
    return RecordError(
        f"invalid YAML: {reason or exc}", line=None if line is None else line + line_offset
    )


def load(text: str, line_offset: int = 0, *, fast: bool = True) -> tuple[Any, Node | None]:
    """Parse one YAML document; return its value and its root node (for locating fields).

    With `fast`, rapidyaml reads the document when it can promise PyYAML's exact
    result; the root node is then None (call again with fast=False to locate a
    field). `line_offset` is added to reported line numbers so they count lines of
    the whole file, not of the front-matter block.
    """
    if fast and yamlfast.AVAILABLE:
        try:
            return yamlfast.load(text), None
        except yamlfast.Declined:
            pass
    has_aliases = _scan(text, line_offset)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        if has_aliases:
            _check_expansion(root, line_offset)
        return loader.construct_document(root), root
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, line_offset) from None
    except yaml.YAMLError as exc:
        raise _other_error(exc, text, line_offset) from None
    finally:
        loader.dispose()


def locate(root: Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line (within the parsed text) of the node at `path`, or its nearest parent."""
    node = root
    line = _line_of(root.start_mark) if root is not None else None
    for step in path:
        if isinstance(node, MappingNode) and isinstance(step, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            break
        line = _line_of(node.start_mark)
    return line
