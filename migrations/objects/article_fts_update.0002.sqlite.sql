CREATE TRIGGER article_fts_update AFTER UPDATE OF title, excerpt, body ON article BEGIN
            INSERT INTO article_fts(article_fts, rowid, title, excerpt, body)
            VALUES ('delete', old.id, old.title, old.excerpt, old.body);
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END
