"""The rapidyaml fast path gives exactly PyYAML's result, or declines.

PyYAML's safe loader (with duplicate keys refused) is the reference: for every
document, the fast path must either return an equal value, with equal types all
the way down, or decline so that the caller uses PyYAML.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import RecordError
from archive.ingest import yamldoc, yamlfast
from archive.ingest.records import split_front_matter

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not yamlfast.AVAILABLE, reason="rapidyaml not installed")


def same(a, b) -> bool:
    """Equality that also demands equal types (True == 1 in Python, not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b  # NaN
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return a == b


def reference(text: str):
    try:
        return yamldoc.load(text, fast=False)[0], None
    except RecordError as exc:
        return None, exc


def check(text: str) -> bool:
    """Assert the fast path agrees with PyYAML; return whether it took the document."""
    expected, error = reference(text)
    try:
        value = yamlfast.load(text)
    except yamlfast.Declined:
        return False
    assert error is None, f"PyYAML rejects this ({error}) but the fast path returned {value!r}"
    assert same(value, expected), f"fast {value!r}\n!= PyYAML {expected!r}"
    return True


# Scalars where YAML 1.1 and 1.2 (or the two parsers) are known to disagree.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "TRUE", "null", "Null", "~", "",
    "012", "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5", "-.5", ".5", "+12", "-12", "0",
    "1:20", "1:20:30.5", ".inf", "-.Inf", ".NaN", "2020-08-17", "2020-08-17T18:08:00Z",
    "2020-08-17 18:08:00 +02:00", "2020-8-7", "12:30", "=", "<<", "@home", "`x`", "a: b",
    "a #b", "#c", "- x", "x -", "[x]", "{x}", "'q'", '"q"', "a\\b", "\\n", "é", "日本",
    "😀", "It's", "50 %", "x!", "&a", "*a", "!x", "?x", "|x", ">x", "-", "--", "---", "...",
    "a\tb", " lead", "trail ", "12abc", "0.1.2", "1,000", "$5", "%d",
]  # fmt: skip

plain_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=0,
    max_size=12,
)
# Mostly well-formed words, so that many documents are valid and the fast path
# really runs; the tricky ones and arbitrary unicode probe the edges.
simple_words = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ./:_-]{0,10}", fullmatch=True)
scalar_text = st.one_of(st.sampled_from(TRICKY), plain_words, simple_words, simple_words)


@st.composite
def scalar(draw) -> str:
    text = draw(scalar_text)
    style = draw(st.sampled_from(["plain", "plain", "double", "single"]))
    if style == "double":
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
        return f'"{escaped}"'
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    return text


keys = st.one_of(st.sampled_from(["title", "webUrl", "topics", "a", "yes", "1", "x y"]), scalar())


@st.composite
def node(draw, depth: int = 0) -> list[str]:
    """YAML lines for a value at `depth` (returned as lines to indent)."""
    kind = draw(
        st.sampled_from(["scalar", "scalar", "map", "seq", "flow"] if depth < 3 else ["scalar"])
    )
    if kind == "scalar":
        return [draw(scalar())]
    if kind == "flow":
        items = draw(st.lists(scalar(), max_size=4))
        return ["[" + ", ".join(items) + "]"]
    if kind == "seq":
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            child = draw(node(depth + 1))
            lines += [f"- {child[0]}"] + ["  " + line for line in child[1:]]
        return ["", *lines]
    return ["", *mapping_lines(draw, depth + 1)]


def mapping_lines(draw, depth: int) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        key = draw(keys)
        child = draw(node(depth))
        if child[0] == "":
            lines.append(f"{key}:")
            lines += ["  " + line for line in child[1:]]
        else:
            lines.append(f"{key}: {child[0]}".rstrip())
    return lines


@st.composite
def documents(draw) -> str:
    return "\n".join(mapping_lines(draw, 0)) + "\n"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fast_path_equals_pyyaml_on_generated_documents(text):
    check(text)


@pytest.mark.parametrize("value", TRICKY)
@pytest.mark.parametrize("style", ["plain", "double", "single", "in-list", "as-key"])
def test_fast_path_equals_pyyaml_on_each_tricky_scalar(value, style):
    if style == "plain":
        text = f"k: {value}\n"
    elif style == "double":
        text = 'k: "' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"\n'
    elif style == "single":
        text = "k: '" + value.replace("'", "''") + "'\n"
    elif style == "in-list":
        text = f"k:\n  - {value}\n  - x\n"
    else:
        text = f"{value}: v\n"
    check(text)


def test_fast_path_takes_and_agrees_on_the_corpus_the_benchmark_generates(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import record

    rng = random.Random(7)
    taken = 0
    for index in range(200):
        yaml_text, _, _ = split_front_matter(record(index, 200, rng))
        taken += check(yaml_text)
    # The point of the fast path: records shaped like real ones must not fall back.
    assert taken == 200


def test_fast_path_takes_and_agrees_on_the_sample_data():
    taken = 0
    files = [p for p in sorted((ROOT / "data").iterdir()) if p.name != "README"]
    for path in files:
        yaml_text, _, _ = split_front_matter(path.read_text(encoding="utf-8"))
        taken += check(yaml_text)
    assert taken >= len(files) // 2


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 12\n",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "a: |\n  yes\n",
        "a: 1.5\n",
        "- a\n- b\n",
        "a: [" * 200 + "]" * 200 + "\n",
        'a: "\\x41"\n',
        "a: b\r\nc: d\r\n",
        "a: b\n---\nc: d\n",
    ],
)
def test_fast_path_declines_what_it_cannot_promise(text):
    with pytest.raises(yamlfast.Declined):
        yamlfast.load(text)
