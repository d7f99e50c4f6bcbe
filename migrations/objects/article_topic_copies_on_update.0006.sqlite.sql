CREATE TRIGGER article_topic_copies_on_update
        AFTER UPDATE OF provider_id, published_at, article_id ON article_topic
        WHEN (new.provider_id, new.published_at) IS NOT
             (SELECT provider_id, published_at FROM article WHERE id = new.article_id)
        BEGIN
            UPDATE article_topic SET
                provider_id = (SELECT provider_id FROM article WHERE id = new.article_id),
                published_at = (SELECT published_at FROM article WHERE id = new.article_id)
            WHERE article_id = new.article_id AND topic_id = new.topic_id;
        END
