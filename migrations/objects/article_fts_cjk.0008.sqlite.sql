CREATE VIRTUAL TABLE article_fts_cjk USING fts5(title, excerpt, body, tokenize='trigram')
