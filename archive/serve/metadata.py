"""Datasette metadata for an archive, generated from the schema rather than written
twice: descriptions from the models' `info["description"]` and models.VIEWS (the
same source as the README's schema tables), canned queries from queries.py.

The result is plain JSON-able data: `archive serve` hands it to Datasette, and
`archive serve --write-metadata FILE` writes it for a plain `datasette` run.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from ..store import models
from .plugin_paths import TIMELINE_PATH
from .queries import CANNED_QUERIES

TITLE = "News archive"

# What a row of each table is called where another table points at it: Datasette
# shows this column beside a foreign key instead of a bare id.
LABEL_COLUMNS = {
    "article": "title",
    "provider": "name",
    "topic": "name",
    "image": "url",
    "source_file": "path",
}

# Columns that a table page may sort by. Sorting the wide tables by a column
# without an index reads every row; these are the ones people sort by.
SORTABLE_COLUMNS = {
    "article": ["id", "published_at", "quality", "heat", "title", "type", "category"],
    "provider": ["id", "name", "domain", "key"],
    "topic": ["id", "name", "key"],
    "source_file": ["id", "path", "imported_at", "size", "status"],
    "article_summary": ["id", "published_at", "quality", "heat", "title", "provider", "type"],
    "topic_article": ["topic", "published_at", "title", "provider"],
    "provider_summary": ["name", "domain", "articles", "first_published", "last_published"],
    "related_summary": ["article_id", "position", "related_title", "related_provider"],
    "story": ["id", "articles", "providers", "first_published"],
}

# Facets a page shows without being asked: the ones that count a 100,000-record
# archive (350,000 articles) in well under a second. article_summary's `topics`
# is a JSON array, so `_facet_array=topics` counts topics on any of its pages; it
# is not a default because Datasette's array facet reads every row's columns (2 s
# over the whole view at that size: it gives up at facet_time_limit_ms there, and
# answers for a provider, a month or a search). article_topic's topic_id facet,
# shown with the topics' names, counts them over everything in 30 ms.
FACETS: dict[str, list[Any]] = {
    "article_summary": ["type", "provider"],
    "topic_article": ["topic", "provider"],
    "article_topic": ["topic_id", "provider_id"],
    # Stories by how many copies and providers they have (small whole numbers).
    "story": ["articles", "providers"],
}

# The full-text index: article_fts indexes article's title, excerpt and body with
# article.id as its rowid. Given here, the search box works on article and on
# article_summary (whose id is the article's) whether or not Datasette detects the
# index itself.
FTS = {"fts_table": "article_fts", "fts_pk": "id"}
SEARCHABLE = ("article", "article_summary")


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for an archive served under the name `database` (Datasette
    names a database after its file: archive.db is `archive`)."""
    tables: dict[str, dict[str, Any]] = {}
    for name in models.TABLE_NAMES:
        table = models.SQLModel.metadata.tables[name]
        tables[name] = _described(
            table.info.get("description", ""),
            {c.name: c.info["description"] for c in table.columns if "description" in c.info},
        )
    for name, view in models.VIEWS.items():
        tables[name] = _described(view.description, dict(view.columns))
    for name, settings in tables.items():
        if name in LABEL_COLUMNS:
            settings["label_column"] = LABEL_COLUMNS[name]
        if name in SORTABLE_COLUMNS:
            settings["sortable_columns"] = SORTABLE_COLUMNS[name]
        if name in FACETS:
            settings["facets"] = FACETS[name]
        if name in SEARCHABLE:
            settings.update(FTS)
    return {
        "title": TITLE,
        "description_html": home_page_html(database),
        "databases": {
            database: {
                "description": "Articles, providers and topics imported from news-record files.",
                "tables": tables,
                "queries": {
                    query.name: {
                        "title": query.title,
                        "description": query.description,
                        "sql": query.sql,
                    }
                    for query in CANNED_QUERIES
                },
            }
        },
    }


def _described(description: str, columns: dict[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = {"description": description}
    if columns:
        settings["columns"] = columns
    return settings


def home_page_html(database: str) -> str:
    """The home page's list of questions, each a link to its canned query with an
    example filled in, and the timeline chart."""
    base = "/" + database
    items = []
    for query in CANNED_QUERIES:
        example = {k: v for k, v in query.example.items() if v}
        href = f"{base}/{query.name}" + (f"?{urlencode(example)}" if example else "")
        items.append(
            f'<li><a href="{escape(href)}" class="archive-question" data-query="{query.name}">'
            f"{escape(query.title)}</a>: {escape(query.description)}</li>"
        )
    timeline = f"{base}/{TIMELINE_PATH}?{urlencode({'topic': 'AI'})}"
    items.append(
        f'<li><a href="{escape(timeline)}" class="archive-question" data-query="timeline">'
        "Timeline chart for a topic</a>: articles per month, drawn as bars.</li>"
    )
    return (
        "<p>Browse the tables and views below, search articles from the search box on"
        f' <a href="{base}/article_summary">article_summary</a>, or ask a question:</p>'
        f"<ul>{''.join(items)}</ul>"
    )
