"""The domain questions as Datasette canned queries: plain SQL with :named parameters.

Each one answers what an `archive` command answers (archive/query/queries.py), with
the same joins and indexes, written as text because Datasette runs SQL, not
SQLAlchemy. Names are matched by the identity rules through SQL functions that
the plugin registers on every connection (plugin.SQL_FUNCTIONS): `topic_key(name)`
is archive.identity.topic_key, so `ai`, ` AI ` and a full-width `ＡＩ` find the
topic AI exactly as `archive providers --topic` does; SQLite's lower() would not
(it folds ASCII only and knows nothing of NFKC).

Months are `substr(published_at, 1, 7)`: the first seven characters are the
year and month in every form the archive has stored timestamps in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    sql: str
    # An example value for each parameter, for the links on the home page.
    example: dict[str, str]


# Providers of a topic's articles: an index-only scan of the topic's links
# (article_topic carries each article's provider and time), as the CLI does.
PROVIDERS_FOR_TOPIC = """
WITH counts AS (
  SELECT at.provider_id, count(*) AS articles,
         min(at.published_at) AS first_published, max(at.published_at) AS last_published
  FROM topic t JOIN article_topic at ON at.topic_id = t.id
  WHERE t.key = topic_key(:topic)
  GROUP BY at.provider_id
)
SELECT p.name, p.domain, c.articles, c.first_published, c.last_published,
       round(c.articles * 1.0 / sum(c.articles) OVER (), 4) AS share
FROM counts c JOIN provider p ON p.id = c.provider_id
ORDER BY c.articles DESC, p.name
""".strip()

# --include-related: the topic's articles and the articles they link to, each once
# (GROUP BY rather than UNION, as queries.providers explains).
PROVIDERS_FOR_TOPIC_WITH_RELATED = """
WITH own AS (
  SELECT at.article_id FROM topic t JOIN article_topic at ON at.topic_id = t.id
  WHERE t.key = topic_key(:topic)
), ids AS (
  SELECT article_id FROM own
  UNION ALL
  SELECT r.related_article_id FROM related_link r WHERE r.article_id IN (SELECT article_id FROM own)
), unique_ids AS (
  SELECT article_id FROM ids GROUP BY article_id
), counts AS (
  SELECT a.provider_id, count(*) AS articles,
         min(a.published_at) AS first_published, max(a.published_at) AS last_published
  FROM article a JOIN unique_ids u ON a.id = u.article_id
  GROUP BY a.provider_id
)
SELECT p.name, p.domain, c.articles, c.first_published, c.last_published,
       round(c.articles * 1.0 / sum(c.articles) OVER (), 4) AS share
FROM counts c JOIN provider p ON p.id = c.provider_id
ORDER BY c.articles DESC, p.name
""".strip()

# A provider is given by its domain (www. and case do not matter) or, for one
# without a domain, by its name: the two keys queries._provider_keys tries.
TOPICS_FOR_PROVIDER = """
WITH counts AS (
  SELECT at.topic_id, count(*) AS articles,
         min(at.published_at) AS first_published, max(at.published_at) AS last_published
  FROM article_topic at
  WHERE at.provider_id IN (
    SELECT id FROM provider WHERE key IN (domain_key(:provider), provider_key(:provider, NULL))
  )
  GROUP BY at.topic_id
)
SELECT t.name, c.articles, c.first_published, c.last_published
FROM counts c JOIN topic t ON t.id = c.topic_id
ORDER BY c.articles DESC, t.name
""".strip()

# Articles per month, empty months included, and their share of all articles
# (own records) published that month, as `archive timeline --by month`; a month
# without any article has no share (NULL), as 0 of 0 is none. Months are
# stepped as numbers (year * 12 + month - 1), not with SQLite's date('+1 month'):
# date('0300-02-01', '+1 month') is 0300-02-29, so that step never left February
# 0300. A number that grows by one each step always reaches the last month.
TIMELINE_FOR_TOPIC = """
WITH RECURSIVE selected AS (
  SELECT substr(at.published_at, 1, 7) AS month, count(*) AS articles
  FROM topic t JOIN article_topic at ON at.topic_id = t.id
  WHERE t.key = topic_key(:topic) AND at.published_at IS NOT NULL
  GROUP BY month
), everything AS (
  SELECT substr(published_at, 1, 7) AS month, count(*) AS articles
  FROM article WHERE is_stub = 0 AND published_at IS NOT NULL
  GROUP BY month
), numbered AS (
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

# Every article (own records) per month, empty months included: the whole archive's
# timeline, and the denominator of a comparison's shares (months numbered as above).
TIMELINE_ALL = """
WITH RECURSIVE everything AS (
  SELECT substr(published_at, 1, 7) AS month, count(*) AS articles
  FROM article WHERE is_stub = 0 AND published_at IS NOT NULL
  GROUP BY month
), numbered AS (
  SELECT CAST(substr(month, 1, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER) - 1
         AS number
  FROM everything
), months(number) AS (
  SELECT min(number) FROM numbered
  UNION ALL
  SELECT number + 1 FROM months WHERE number < (SELECT max(number) FROM numbered)
), labelled AS (
  SELECT printf('%04d-%02d', number / 12, number % 12 + 1) AS month FROM months
  WHERE number IS NOT NULL
)
SELECT m.month, coalesce(e.articles, 0) AS articles
FROM labelled m LEFT JOIN everything e ON e.month = m.month
ORDER BY m.month
""".strip()

# (article_id, topic_id) is article_topic's primary key: count(*) counts articles.
COOCCURRING_TOPICS = """
WITH mine AS (
  SELECT at.article_id, at.topic_id FROM topic t JOIN article_topic at ON at.topic_id = t.id
  WHERE t.key = topic_key(:topic)
)
SELECT t.name, count(*) AS articles,
       round(count(*) * 1.0 / max((SELECT count(*) FROM mine), 1), 4) AS share
FROM mine
JOIN article_topic other ON other.article_id = mine.article_id AND other.topic_id != mine.topic_id
JOIN topic t ON t.id = other.topic_id
GROUP BY other.topic_id
ORDER BY articles DESC, t.name
""".strip()

# Any form of the URL that identifies the article (url_key: archive.identity.url_key).
RELATED_ARTICLES = """
WITH target AS (SELECT article_id AS id FROM article_url WHERE url_key = url_key(:url))
SELECT 'links to' AS direction, r.position, o.published_at, o.title, p.name AS provider,
       p.domain, o.url, o.is_stub
FROM related_link r JOIN article o ON o.id = r.related_article_id
LEFT JOIN provider p ON p.id = o.provider_id
WHERE r.article_id = (SELECT id FROM target)
UNION
SELECT 'linked from', r.position, o.published_at, o.title, p.name, p.domain, o.url, o.is_stub
FROM related_link r JOIN article o ON o.id = r.article_id
LEFT JOIN provider p ON p.id = o.provider_id
WHERE r.related_article_id = (SELECT id FROM target)
ORDER BY direction DESC, position, url
""".strip()

# An article's versions, newest first (archive history): each file content that
# described it. The CLI also names the record keys each version changed.
ARTICLE_HISTORY = """
WITH target AS (SELECT article_id AS id FROM article_url WHERE url_key = url_key(:url))
SELECT coalesce(s.committed_at, s.imported_at) AS time, s.status,
       coalesce(c.name || '/' || s.rel_path, s.path) AS path, s.commit_id AS "commit",
       s.removed_at, s.sha256
FROM source_file s LEFT JOIN collection c ON c.id = s.collection_id
WHERE s.article_id = (SELECT id FROM target)
ORDER BY s.id DESC
""".strip()

# --by-story: each story once per provider; `first` when the provider's copy was
# the story's earliest in the topic, `copies` when it was not (query/stories.py).
PROVIDERS_FOR_TOPIC_BY_STORY = """
WITH links AS (
  SELECT DISTINCT at.article_id, at.provider_id, at.published_at,
         coalesce(s.story_id, -at.article_id) AS story
  FROM topic t JOIN article_topic at ON at.topic_id = t.id
  LEFT JOIN article_story s ON s.article_id = at.article_id
  WHERE t.key = topic_key(:topic)
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY story
         ORDER BY published_at IS NULL, published_at, article_id) AS rank
  FROM links
), counts AS (
  SELECT provider_id, count(DISTINCT story) AS stories,
         count(DISTINCT CASE WHEN rank = 1 THEN story END) AS first,
         min(published_at) AS first_published, max(published_at) AS last_published
  FROM ranked GROUP BY provider_id
)
SELECT p.name, p.domain, c.stories, c.first, c.stories - c.first AS copies,
       c.first_published, c.last_published,
       round(c.stories * 1.0 / (SELECT count(DISTINCT story) FROM links), 4) AS share
FROM counts c JOIN provider p ON p.id = c.provider_id
ORDER BY c.stories DESC, p.name
""".strip()

# The largest stories, as `archive stories`.
LARGEST_STORIES = """
SELECT s.id AS story, s.articles, s.providers, s.first_published, o.title,
       op.name AS first_provider,
       (SELECT group_concat(n.name, ', ') FROM
         (SELECT DISTINCT p.name FROM article_story m JOIN article a ON a.id = m.article_id
          JOIN provider p ON p.id = a.provider_id WHERE m.story_id = s.id ORDER BY p.name) n
       ) AS provider_names,
       o.url
FROM story s JOIN article o ON o.id = s.origin_article_id
LEFT JOIN provider op ON op.id = o.provider_id
WHERE s.articles > 1
ORDER BY s.articles DESC, s.first_published, s.id
""".strip()

# The other copies of an article, the first marked, as `archive show` lists them.
COPIES_OF_URL = """
WITH target AS (SELECT article_id AS id FROM article_url WHERE url_key = url_key(:url))
SELECT o.published_at, o.title, p.name AS provider, o.url,
       o.id = st.origin_article_id AS is_first
FROM article_story mine JOIN story st ON st.id = mine.story_id
JOIN article_story theirs ON theirs.story_id = mine.story_id
JOIN article o ON o.id = theirs.article_id
LEFT JOIN provider p ON p.id = o.provider_id
WHERE mine.article_id = (SELECT id FROM target) AND o.id != mine.article_id
ORDER BY o.published_at IS NULL, o.published_at, o.id
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
