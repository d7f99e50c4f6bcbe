CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
        END
