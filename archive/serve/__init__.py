"""`archive serve`: the archive in a browser, through Datasette.

Datasette already is a read-only web front end for SQLite (tables, views, facets,
full-text search, canned queries, a JSON API); this package only tells it about
the archive: descriptions, label columns and canned queries generated from the
schema (metadata.py, queries.py), the identity rules as SQL functions and a
timeline chart (plugin/), and how to open the file without ever writing it
(server.py).
"""
