"""The domain questions as Datasette canned queries: plain SQL with :named parameters.

Each is the statement the `archive` command runs, written by the same builder
(archive/query/counts.py, stories.py, one_article.py, timeline.py) through a
CannedSql: a value becomes a `:name` parameter, and a name is matched by the
identity rules through SQL functions that the plugin registers on every
connection (plugin.SQL_FUNCTIONS): `topic_key(:topic)` is archive.identity.topic_key,
so `ai`, ` AI ` and a full-width `ＡＩ` find the topic AI exactly as
`archive providers --topic` does; SQLite's lower() would not (it folds ASCII only
and knows nothing of NFKC). tests/test_serve.py checks that each answers as its
command does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..query import counts, one_article, stories, timeline
from ..query.filters import Filters
from ..query.sql import CannedSql, Param


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    sql: str
    # An example value for each parameter, for the links on the home page.
    example: dict[str, str]


TOPIC, PROVIDER = Param("topic"), Param("provider")
# The article any form of :url identifies (url_key: archive.identity.url_key).
ARTICLE_OF_URL = (
    "(SELECT article_url.article_id FROM article_url WHERE article_url.url_key = url_key(:url))"
)

PROVIDERS_FOR_TOPIC = counts.providers_sql(CannedSql(), Filters(topics=[TOPIC]))
PROVIDERS_FOR_TOPIC_WITH_RELATED = counts.providers_sql(
    CannedSql(), Filters(topics=[TOPIC]), include_related=True
)
TOPICS_FOR_PROVIDER = counts.topics_sql(CannedSql(), Filters(providers=[PROVIDER]))
COOCCURRING_TOPICS = counts.cooccur_sql(CannedSql(), TOPIC, Filters())
RELATED_ARTICLES = one_article.related_sql(CannedSql(), ARTICLE_OF_URL)
PROVIDERS_FOR_TOPIC_BY_STORY = stories.providers_sql(CannedSql(), Filters(topics=[TOPIC]))
LARGEST_STORIES = stories.largest_sql(CannedSql(), Filters())
COPIES_OF_URL = one_article.copies_sql(CannedSql(), ARTICLE_OF_URL)


# The month of a stored timestamp: its first seven characters, in every form the
# archive has stored timestamps in (cheaper than summing date()'s days).
MONTH = "substr({}, 1, 7)"


def _months(selected: str, everything: str | None = None) -> str:
    """Articles per month of a (month, articles) statement, every month from its first
    to its last, with the month's articles in the whole archive and their share, as
    `archive timeline --by month` sums its days (timeline.period_counts). A month
    without any article has no share (NULL), as 0 of 0 is none. Months are stepped
    as numbers (year * 12 + month - 1), not with SQLite's date('+1 month'):
    date('0300-02-01', '+1 month') is 0300-02-29, so that step never left February
    0300. A number that grows by one each step always reaches the last month.
    `everything`: the whole archive's months, when not counted again."""
    everything = everything or timeline.all_days_sql(CannedSql(), Filters(), MONTH)
    return f"""
WITH RECURSIVE selected(month, articles) AS ({selected}),
everything(month, articles) AS ({everything}),
numbered AS (
  SELECT CAST(substr(month, 1, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER) - 1
         AS number
  FROM selected
), months(number) AS (
  SELECT min(number) FROM numbered
  UNION ALL
  SELECT number + 1 FROM months WHERE number < (SELECT max(number) FROM numbered)
), labelled AS (
  SELECT printf('%04d-%02d', number / 12, number % 12 + 1) AS month FROM months
  WHERE number IS NOT NULL
)
SELECT m.month, coalesce(s.articles, 0) AS articles, coalesce(e.articles, 0) AS all_articles,
       round(coalesce(s.articles, 0) * 1.0 / e.articles, 4) AS share
FROM labelled m LEFT JOIN selected s ON s.month = m.month
LEFT JOIN everything e ON e.month = m.month
ORDER BY m.month
""".strip()


# Articles with a topic per month, as `archive timeline --topic T --by month`.
TIMELINE_FOR_TOPIC = _months(
    timeline.selected_days_sql(CannedSql(), Filters(topics=[TOPIC]), MONTH)
)
# Every article (own records) per month: the whole archive's timeline, and the
# denominator of a comparison's shares.
_ALL_MONTHS = _months(
    timeline.all_days_sql(CannedSql(), Filters(), MONTH),
    "SELECT month, articles FROM selected",  # SQLite reads a CTE used twice once
)
TIMELINE_ALL = f"SELECT month, articles FROM ({_ALL_MONTHS}) AS m ORDER BY month"

# An article's versions, newest first (archive history): each file content that
# described it. The CLI reads the same rows (query/history.py) and also names the
# record keys each version changed, which takes Python, not SQL.
ARTICLE_HISTORY = f"""
SELECT coalesce(s.committed_at, s.imported_at) AS time, s.status,
       coalesce(c.name || '/' || s.rel_path, s.path) AS path, s.commit_id AS "commit",
       s.removed_at, s.sha256
FROM source_file s LEFT JOIN collection c ON c.id = s.collection_id
WHERE s.article_id = {ARTICLE_OF_URL}
ORDER BY s.id DESC
""".strip()


CANNED_QUERIES = (
    CannedQuery(
        "providers_for_topic",
        "Providers for a topic",
        "Which providers cover this topic: their articles (own records), first and last"
        " publication and share. Topics match case-insensitively.",
        PROVIDERS_FOR_TOPIC,
        {"topic": "AI"},
    ),
    CannedQuery(
        "providers_for_topic_with_related",
        "Providers for a topic, related articles included",
        "As providers_for_topic, also counting the articles that the topic's articles"
        " link to as related (archive providers --include-related).",
        PROVIDERS_FOR_TOPIC_WITH_RELATED,
        {"topic": "AI"},
    ),
    CannedQuery(
        "topics_for_provider",
        "Topics for a provider",
        "Topics of one provider's articles. Give the provider's domain (www. and case do"
        " not matter) or, for a provider without one, its name.",
        TOPICS_FOR_PROVIDER,
        {"provider": "theguardian.com"},
    ),
    CannedQuery(
        "timeline_for_topic",
        "Timeline for a topic",
        "Articles with this topic per month, empty months included, and their share of"
        " all articles published that month.",
        TIMELINE_FOR_TOPIC,
        {"topic": "AI"},
    ),
    CannedQuery(
        "cooccurring_topics",
        "Co-occurring topics",
        "Topics that appear on the same articles as this topic, with the share of its"
        " articles they appear on.",
        COOCCURRING_TOPICS,
        {"topic": "AI"},
    ),
    CannedQuery(
        "providers_for_topic_by_story",
        "Providers for a topic, by story",
        "As providers_for_topic, counting stories: copies of one text under several"
        " providers count once (archive providers --by-story); `copies` are the stories a"
        " provider republished after another.",
        PROVIDERS_FOR_TOPIC_BY_STORY,
        {"topic": "AI"},
    ),
    CannedQuery(
        "largest_stories",
        "Largest stories",
        "Texts published under several providers, most copies first, with the first"
        " publication and its provider (archive stories).",
        LARGEST_STORIES,
        {},
    ),
    CannedQuery(
        "copies_of_url",
        "Copies of an article",
        "The other articles of this URL's story, the first marked. Any form of the URL"
        " that identifies the article works.",
        COPIES_OF_URL,
        {"url": ""},
    ),
    CannedQuery(
        "related_articles",
        "Related articles of a URL",
        "The articles this URL links to as related, and the articles that link to it."
        " Any form of the URL that identifies the article works.",
        RELATED_ARTICLES,
        {"url": ""},
    ),
    CannedQuery(
        "article_history",
        "History of an article",
        "Every version of the article's files, newest first: when (the commit's time for"
        " git), how it came in, the file, the commit, and when the file was deleted.",
        ARTICLE_HISTORY,
        {"url": ""},
    ),
)
