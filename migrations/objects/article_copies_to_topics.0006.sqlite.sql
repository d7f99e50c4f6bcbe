CREATE TRIGGER article_copies_to_topics
        AFTER UPDATE OF provider_id, published_at ON article
        WHEN (new.provider_id, new.published_at) IS NOT (old.provider_id, old.published_at)
        BEGIN
            UPDATE article_topic SET provider_id = new.provider_id, published_at = new.published_at
            WHERE article_id = new.id;
        END
