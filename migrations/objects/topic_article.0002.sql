CREATE VIEW topic_article AS 
        SELECT t.name AS topic, a.id AS article_id, a.url, a.title, a.published_at,
               p.name AS provider, p.domain AS domain
        FROM article_topic at
        JOIN topic t ON t.id = at.topic_id
        JOIN article a ON a.id = at.article_id
        LEFT JOIN provider p ON p.id = a.provider_id
    
