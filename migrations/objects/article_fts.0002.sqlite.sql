CREATE VIRTUAL TABLE article_fts USING fts5(title, excerpt, body, content='article', content_rowid='id', tokenize='unicode61 remove_diacritics 2')
