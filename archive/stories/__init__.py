"""Stories: which articles are copies of one text or announcement (pure logic, no database).

text.py normalizes titles and makes word shingles; minhash.py turns shingles into
MinHash signatures and LSH band keys; rules.py decides whether two articles are one
story and says why. ingest/stories.py stores and looks these up in the archive.
"""
