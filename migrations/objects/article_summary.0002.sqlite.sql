CREATE VIEW article_summary AS 
        SELECT a.id, a.url, a.title, a.excerpt, a.published_at, a.type, a.category,
               a.quality, a.heat, a.published, a.is_stub,
               p.name AS provider, p.domain AS domain,
               (SELECT group_concat(name, ', ') FROM (SELECT t.name FROM article_topic at JOIN topic t ON t.id = at.topic_id WHERE at.article_id = a.id ORDER BY at.position)) AS topics
        FROM article a LEFT JOIN provider p ON p.id = a.provider_id
    
