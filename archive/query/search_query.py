"""The search grammar: what a user types, read once, written for either engine.

News text is full of words with punctuation (`covid-19`, `C++`, `AI/ML`, `what's`),
which FTS5 and tsquery syntax read as operators. So the text is never passed to
either engine: `parse` reads it into a SearchQuery (all groups must match, a group
matches when any of its terms does, no excluded term may match, plus filters) and
the render functions write that with bound values. Anything the grammar does not
know is searched as words, so no text is a syntax error.

A term's words are what FTS5's unicode61 tokenizer makes of it (runs of letters and
digits), so `covid-19` is the phrase `covid 19` and finds `COVID-19`. PostgreSQL's
search column reads text the same way (migration 0008). A term with Chinese,
Japanese or Korean characters, written without spaces, is a substring instead:
the trigram table article_fts_cjk on SQLite (3+ characters; shorter ones by instr
on the same table), ILIKE on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import UsageError
from .filters import Filters, parse_date

# Kana, CJK ideographs (with extensions and compatibility forms), Hangul syllables,
# half-width katakana: migration 0008's CJK_GLOB puts articles with these in
# article_fts_cjk, so the two must name the same characters.
CJK_RANGES = (
    (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3134F),
)  # fmt: skip
_CJK = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES) + "]")
_WORD = re.compile(r"[^\W_]+")  # unicode61: letters and digits; the rest separates
_WORD_SPAN = re.compile(r"[^\W_](?:.*[^\W_])?", re.S)
FIELDS = ("topic", "provider", "since", "until", "type")
# One piece of the text: [-]["phrase"] or [-][field:]word, the field's value maybe quoted.
_PIECE = re.compile(
    r"(?P<neg>-)?(?:(?P<field>(?i:" + "|".join(FIELDS) + r")):)?"
    r'(?:"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"]+))'
)
EXAMPLE = "e.g. archive search covid-19 vaccine"


@dataclass(frozen=True)
class Term:
    """A word or "phrase" as typed; `prefix` for a trailing * on a word."""

    text: str
    prefix: bool = False

    @property
    def words(self) -> list[str]:
        return _WORD.findall(self.text)

    @property
    def cjk(self) -> bool:
        return bool(_CJK.search(self.text))

    @property
    def substring(self) -> str:
        """A CJK term's text from its first to its last letter or digit, spaces as one."""
        found = _WORD_SPAN.search(" ".join(self.text.split()))
        return found.group(0) if found else ""


@dataclass(frozen=True)
class SearchQuery:
    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()
    topics: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    since: object = None  # dt.datetime, from since:
    until: object = None
    type_: str | None = None

    @property
    def terms(self) -> list[Term]:
        return [term for group in self.groups for term in group] + list(self.excluded)

    @property
    def cjk(self) -> bool:
        return any(term.cjk for term in self.terms)

    def filters(self, given: Filters) -> Filters:
        """The command's filters narrowed by the field operators."""
        since = max((s for s in (given.since, self.since) if s is not None), default=None)
        until = min((u for u in (given.until, self.until) if u is not None), default=None)
        return replace(
            given,
            topics=(*given.topics, *self.topics),
            providers=(*given.providers, *self.providers),
            since=since,
            until=until,
        )


@dataclass
class _Piece:
    text: str
    negated: bool = False
    field: str | None = None
    quoted: bool = False

    def keyword(self, word: str) -> bool:
        return not (self.negated or self.field or self.quoted) and self.text == word

    @property
    def plain(self) -> bool:
        return not (self.negated or self.field or self.keyword("OR") or self.keyword("NOT"))

    def term(self) -> Term:
        prefix = not self.quoted and self.text.endswith("*")
        return Term(" ".join(self.text.split()), prefix=prefix)


def _pieces(text: str) -> list[_Piece]:
    found = []
    for match in _PIECE.finditer(text):
        phrase = match.group("phrase")
        value = phrase if phrase is not None else match.group("word")
        field_name = (match.group("field") or "").lower() or None
        found.append(_Piece(value, bool(match.group("neg")), field_name, phrase is not None))
    return found


def parse(text: str) -> SearchQuery:
    """Read a user's search text; a UsageError (one line) if it has nothing to search."""
    pieces = _pieces(text)
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    fields: dict[str, list[str]] = {name: [] for name in FIELDS}
    last_positive = False
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        if piece.field:
            if piece.negated:
                raise UsageError(f"-{piece.field}: cannot exclude; {piece.field}: only narrows")
            fields[piece.field].append(piece.text)
            last_positive = False
        elif piece.keyword("NOT") and following and following.plain:
            excluded.append(following.term())
            i += 1
            last_positive = False
        elif piece.negated:
            excluded.append(piece.term())
            last_positive = False
        elif piece.keyword("OR") and last_positive and following and following.plain:
            groups[-1].append(following.term())
            i += 1
        else:  # a word, a phrase, or an operator with nothing to work on
            groups.append([piece.term()])
            last_positive = True
        i += 1
    return _query(text, groups, excluded, fields)


def _query(
    text: str, groups: list[list[Term]], excluded: list[Term], fields: dict[str, list[str]]
) -> SearchQuery:
    # Terms without a letter or digit (`*`, `()`, `-`) search for nothing: left out.
    kept = [tuple(t for t in group if t.words) for group in groups]
    kept = [group for group in kept if group]
    excluded = [t for t in excluded if t.words]
    if not kept:
        what = "only excludes words" if excluded else "has no word to search for"
        raise UsageError(f"search text {text.strip()!r} {what}: {EXAMPLE}")
    return SearchQuery(
        groups=tuple(kept),
        excluded=tuple(excluded),
        topics=tuple(fields["topic"]),
        providers=tuple(fields["provider"]),
        since=max((parse_date(v) for v in fields["since"]), default=None),
        until=min((parse_date(v, end=True) for v in fields["until"]), default=None),
        type_=fields["type"][-1] if fields["type"] else None,
    )


# --- SQLite: FTS5 -------------------------------------------------------------------


def fts5_term(term: Term) -> str:
    """A term as an FTS5 phrase of its words: `covid-19` is "covid 19"."""
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def fts5_match(query: SearchQuery) -> str:
    """The whole query as one FTS5 MATCH expression (no CJK terms): OR binds first."""
    groups = " AND ".join("(" + " OR ".join(map(fts5_term, g)) + ")" for g in query.groups)
    return "".join([f"({groups})", *(f" NOT {fts5_term(t)}" for t in query.excluded)])


# --- PostgreSQL: tsquery ------------------------------------------------------------


def _lexeme(word: str, prefix: bool, weight: str = "") -> str:
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    marks = ("*" if prefix else "") + weight
    return f"{quoted}:{marks}" if marks else quoted


def tsquery_term(term: Term) -> str:
    """A term for to_tsquery. A phrase must lie within one column, as in FTS5: the
    column's weight (title A, excerpt B, body C) is on each of its words."""
    words = term.words
    if len(words) == 1:
        return _lexeme(words[0], term.prefix)
    phrases = []
    for weight in "ABC":
        last = len(words) - 1
        parts = [_lexeme(w, term.prefix and i == last, weight) for i, w in enumerate(words)]
        phrases.append("(" + " <-> ".join(parts) + ")")
    return "(" + " | ".join(phrases) + ")"


def tsquery(query: SearchQuery) -> str:
    groups = ["(" + " | ".join(map(tsquery_term, g)) + ")" for g in query.groups]
    return " & ".join(groups + [f"!{tsquery_term(t)}" for t in query.excluded])


def headline_tsquery(query: SearchQuery) -> str:
    """Every word of the query, any of them: what ts_headline marks. The whole
    query would mark too little, as ts_headline reads the text with PostgreSQL's
    own parser (`COVID-19` is `covid` and `-19` to it)."""
    words = [(w, t.prefix) for group in query.groups for t in group for w in t.words]
    return " | ".join(_lexeme(word, prefix) for word, prefix in words)


# --- either engine, term by term (queries with CJK terms) ---------------------------


def like_pattern(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def term_condition(term: Term, postgres: bool, bind: Callable[[object], str], alias: str) -> str:
    """SQL that is true for the articles (`alias`) a single term matches."""
    if postgres:
        if term.cjk:
            pattern = bind(like_pattern(term.substring))
            return "(" + " OR ".join(f"{alias}.{c} ILIKE {pattern}" for c in COLUMNS) + ")"
        return f"{alias}.search_vector @@ to_tsquery('archive_search', {bind(tsquery_term(term))})"
    if not term.cjk:
        return f"{alias}.id IN (SELECT rowid FROM article_fts WHERE article_fts MATCH {bind(fts5_term(term))})"
    text = term.substring
    if len(text) >= 3:  # the trigram tokenizer's shortest substring
        phrase = bind('"' + text.replace('"', '""') + '"')
        return f"{alias}.id IN (SELECT rowid FROM article_fts_cjk WHERE article_fts_cjk MATCH {phrase})"
    value = bind(text.lower())
    found = " OR ".join(f"instr(lower({c}), {value}) > 0" for c in COLUMNS)
    return f"{alias}.id IN (SELECT rowid FROM article_fts_cjk WHERE {found})"


COLUMNS = ("title", "excerpt", "body")


def condition(query: SearchQuery, postgres: bool, bind: Callable[[object], str], alias: str) -> str:
    """SQL true for the articles (`alias`) the query finds."""
    if not query.cjk:  # one look-up in the index for the whole query
        if postgres:
            return f"{alias}.search_vector @@ to_tsquery('archive_search', {bind(tsquery(query))})"
        return f"{alias}.id IN (SELECT rowid FROM article_fts WHERE article_fts MATCH {bind(fts5_match(query))})"
    groups = [
        "(" + " OR ".join(term_condition(t, postgres, bind, alias) for t in group) + ")"
        for group in query.groups
    ]
    excluded = [f"NOT {term_condition(t, postgres, bind, alias)}" for t in query.excluded]
    return " AND ".join(groups + excluded)


def first_cjk(query: SearchQuery) -> str | None:
    """The text whose occurrences rank a CJK search and centre its snippet."""
    return next((t.substring for group in query.groups for t in group if t.cjk), None)


def cjk_search_sql(
    query: SearchQuery,
    postgres: bool,
    bind: Callable[[object], str],
    conditions: list[str],
    limited: str,
) -> str:
    """`archive search` for a query with CJK terms, alike on both engines: ranked by
    how often the first CJK term occurs, newest first among equals; the snippet is
    the text around its first occurrence."""
    text = bind(first_cjk(query))
    term = f"CAST({text} AS TEXT)"
    doc = " || ' ' || ".join(f"coalesce(a.{c}, '')" for c in COLUMNS)
    score = f"(length({doc}) - length(replace({doc}, {term}, ''))) / length({term})"
    find = "strpos" if postgres else "instr"
    start = "CASE WHEN pos > 21 THEN pos - 20 ELSE 1 END"
    snippet = (
        f"CASE WHEN pos = 0 THEN substr(doc, 1, 60) ELSE '…' || substr(doc, {start}, pos - {start})"
        f" || '[' || {term} || ']' || substr(doc, pos + length({term}), 20) || '…' END"
    )
    return (
        f"WITH best AS (SELECT a.id, {score} AS score FROM article a"
        f" LEFT JOIN provider p ON p.id = a.provider_id WHERE {' AND '.join(conditions)}"
        f" ORDER BY score DESC, a.published_at DESC NULLS LAST, a.id{limited})"
        f" SELECT published_at, title, provider, url, {snippet} AS snippet FROM ("
        " SELECT best.id, best.score, a.published_at, a.title, p.name AS provider, a.url,"
        f" {doc} AS doc, {find}({doc}, {term}) AS pos"
        " FROM best JOIN article a ON a.id = best.id LEFT JOIN provider p ON p.id = a.provider_id"
        ") AS found ORDER BY score DESC, published_at DESC NULLS LAST, id"
    )
