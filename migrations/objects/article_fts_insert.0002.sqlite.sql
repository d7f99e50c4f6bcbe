CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
            INSERT INTO article_fts(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END
