"""Lists of articles: `archive articles` (filters, --search) and `archive search`
(full-text, best matches first)."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import ArchiveError
from ..rows import Rows
from . import search_query
from .conditions import date_conditions, provider_condition, topic_article_ids
from .filters import SEARCH_LIMIT, Filters
from .reader import Reader
from .sql import Sql, where

# The columns of `articles` on a terminal too narrow for them all: one line each.
ARTICLES_COMPACT = ("published_at", "domain", "title")


def _topics_column(q: Sql) -> str:
    """An article's topics in record order, a JSON array (as article_summary.topics),
    as a correlated subquery."""
    links = (
        "FROM article_topic JOIN topic ON topic.id = article_topic.topic_id"
        " WHERE article_topic.article_id = article.id"
    )
    if q.postgres:
        return (
            "(SELECT coalesce(json_agg(topic.name ORDER BY article_topic.position), '[]'::json)"
            f" {links})"
        )
    return (
        "(SELECT json_group_array(t.name)"
        f" FROM (SELECT topic.name AS name {links} ORDER BY article_topic.position) AS t)"
    )


def articles(
    conn: Reader,
    filters: Filters,
    *,
    type_: str | None = None,
    min_quality: int | None = None,
    search: str | None = None,
    include_stubs: bool = False,
    include_removed: bool = False,
) -> Rows:
    q = Sql(conn)
    parsed = search_query.parse(search) if search else None
    if parsed:  # its topic:, provider:, since:, until: and type: narrow the filters
        filters, type_ = parsed.filters(filters), parsed.type_ or type_
    conditions = date_conditions(q, filters) + provider_condition(q, filters)
    if not include_stubs:
        conditions.append(f"article.is_stub IS {q.false}")
    if not include_removed:
        conditions.append("article.removed_at IS NULL")
    if filters.topics:
        conditions.append(f"article.id IN ({topic_article_ids(q, filters)})")
    if type_:
        conditions.append(f"lower(article.type) = {q.bind(type_.lower())}")
    if min_quality is not None:
        conditions.append(f"article.quality >= {q.bind(min_quality)}")
    if parsed:
        conditions.append(search_query.condition(parsed, q.postgres, q.bind, "article"))
    sql = (
        "SELECT article.published_at, article.title, provider.name AS provider,"
        f" provider.domain, {_topics_column(q)} AS topics, article.type, article.quality,"
        " article.url, article.is_stub"
        " FROM article LEFT OUTER JOIN provider ON provider.id = article.provider_id"
        f"{where(conditions)}"
        # NULLS LAST: undated articles after the dated ones, as SQLite sorts them.
        " ORDER BY article.published_at DESC NULLS LAST, article.id"
    )
    return _checked(q, sql).replace(compact=ARTICLES_COMPACT)


def _any_removed(conn: Reader) -> bool:
    """Whether an article was removed (its file deleted in git): an index lookup, so
    that a search in an archive without removals keeps its index-only fast path."""
    _columns, rows = conn.execute("SELECT 1 FROM article WHERE removed_at IS NOT NULL LIMIT 1")
    return any(True for _ in rows)


def _checked(q: Sql, sql: str) -> Rows:
    """Run a query whose errors come from the user's search syntax."""
    try:
        found = q.rows(sql)
    except ArchiveError as exc:
        raise ArchiveError(_search_error(str(exc))) from None
    return Rows(found.columns, _search_errors_explained(found.rows))


def _search_errors_explained(rows: Iterator[tuple]) -> Iterator[tuple]:
    try:
        yield from rows
    except ArchiveError as exc:
        raise ArchiveError(_search_error(str(exc))) from None


def _search_error(message: str) -> str:
    # The grammar (search_query.py) writes every query; an engine's own message
    # about its query syntax would only confuse.
    engine_words = ("fts5", "no such column", "syntax error", "unterminated", "tsquery", "MATCH")
    if any(word in message for word in engine_words):
        return "cannot search for that text: the full-text index could not read it"
    return message


def _ranked(found: Rows) -> Rows:
    # FTS5's auxiliary functions cannot run inside window functions: number here.
    return Rows(["rank", *found.columns], ((i, *row) for i, row in enumerate(found.rows, 1)))


def _search_conditions(
    conn: Reader, q: Sql, filters: Filters, type_: str | None, include_stubs: bool
) -> list[str]:
    """The conditions on the matching article `a` (and its provider `p`)."""
    conditions = date_conditions(q, filters, "a")
    if filters.providers:
        conditions.append(f"p.key IN {q.provider_keys(filters.providers)}")
    if filters.topics:
        conditions.append(
            "a.id IN (SELECT at.article_id FROM article_topic at JOIN topic t ON t.id = at.topic_id"
            f" WHERE t.key IN {q.topic_keys(filters.topics)})"
        )
    if not include_stubs:
        conditions.append("NOT a.is_stub" if q.postgres else "a.is_stub = 0")
    if _any_removed(conn):
        conditions.append("a.removed_at IS NULL")
    if type_:
        conditions.append(f"lower(a.type) = {q.bind(type_.lower())}")
    return conditions


def search(
    conn: Reader,
    query_text: str,
    filters: Filters,
    *,
    include_stubs: bool = True,
    limit: int | None = SEARCH_LIMIT,
) -> Rows:
    """Full-text search over title, excerpt and body, best matches first.

    The text is read by search_query.parse (README: search): words, "phrases", OR,
    -word or NOT word, word*, and topic:/provider:/since:/until:/type:. Ranking must
    score every match, but with a limit SQLite keeps only the best rows instead of
    sorting them all.
    """
    q = Sql(conn)
    parsed = search_query.parse(query_text)
    conditions = _search_conditions(conn, q, parsed.filters(filters), parsed.type_, include_stubs)
    limited = f" LIMIT {q.bind(limit)}" if limit is not None else ""
    if parsed.cjk:  # substrings, not index words: ranked alike on both engines
        conditions.insert(0, search_query.condition(parsed, q.postgres, q.bind, "a"))
        sql = search_query.cjk_search_sql(parsed, q.postgres, q.bind, conditions, limited)
        return _ranked(_checked(q, sql))
    if q.postgres:
        query = q.bind(search_query.tsquery(parsed))
        conditions.insert(0, f"a.search_vector @@ to_tsquery('archive_search', {query})")
        marked = q.bind(search_query.headline_tsquery(parsed))
        return _ranked(_checked(q, _search_postgres(q, query, marked, conditions, limited)))
    return _ranked(_checked(q, _search_sqlite(q, parsed, conditions, limited)))


def _search_sqlite(
    q: Sql, parsed: search_query.SearchQuery, conditions: list[str], limited: str
) -> str:
    query = q.bind(search_query.fts5_match(parsed))
    conditions.insert(0, f"article_fts MATCH {query}")
    if len(conditions) == 1 and limited:
        # No filter on the article: rank in the full-text index alone, then read
        # articles and make snippets for the best rows only (3x faster for a word
        # that half the archive contains).
        return (
            "WITH best AS (SELECT rowid AS id, bm25(article_fts) AS score FROM article_fts"
            f" WHERE article_fts MATCH {query} ORDER BY score, rowid{limited})"
            " SELECT a.published_at, a.title, p.name AS provider, a.url,"
            " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
            " FROM best JOIN article_fts ON article_fts.rowid = best.id"
            " JOIN article a ON a.id = best.id LEFT JOIN provider p ON p.id = a.provider_id"
            f" WHERE article_fts MATCH {query} ORDER BY best.score, best.id"
        )
    return (
        "SELECT a.published_at, a.title, p.name AS provider, a.url,"
        " snippet(article_fts, -1, '[', ']', '…', 12) AS snippet"
        " FROM article_fts JOIN article a ON a.id = article_fts.rowid"
        " LEFT JOIN provider p ON p.id = a.provider_id"
        f" WHERE {' AND '.join(conditions)} ORDER BY bm25(article_fts), a.id{limited}"
    )


# ts_headline's options that come closest to FTS5's snippet(..., '[', ']', '…', 12).
_HEADLINE = "StartSel=[, StopSel=], MaxWords=12, MinWords=6, MaxFragments=1, FragmentDelimiter=…"


def _search_postgres(q: Sql, query: str, marked: str, conditions: list[str], limited: str) -> str:
    """PostgreSQL: the grammar's tsquery, ranked by ts_rank (README: PostgreSQL).

    Snippets are made for the best rows only, after the limit: ts_headline re-reads
    and re-parses each article's text.
    """
    return (
        f"WITH q AS (SELECT to_tsquery('archive_search', {query}) AS query),"
        " best AS (SELECT a.id, ts_rank(a.search_vector, q.query) AS score"
        " FROM article a CROSS JOIN q LEFT JOIN provider p ON p.id = a.provider_id"
        f" WHERE {' AND '.join(conditions)} ORDER BY score DESC, a.id{limited})"
        " SELECT a.published_at, a.title, p.name AS provider, a.url,"
        " ts_headline('archive_search',"
        f" concat_ws(' ', a.title, a.excerpt, a.body), to_tsquery('archive_search', {marked}),"
        f" {q.bind(_HEADLINE)}) AS snippet"
        " FROM best JOIN article a ON a.id = best.id CROSS JOIN q"
        " LEFT JOIN provider p ON p.id = a.provider_id ORDER BY best.score DESC, best.id"
    )
