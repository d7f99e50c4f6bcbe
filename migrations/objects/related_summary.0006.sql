CREATE VIEW related_summary AS 
            SELECT r.article_id, a.url AS article_url, r.position,
                   r.related_article_id, b.url AS related_url, b.title AS related_title,
                   p.name AS related_provider, p.domain AS related_domain
            FROM related_link r
            JOIN article a ON a.id = r.article_id
            JOIN article b ON b.id = r.related_article_id
            LEFT JOIN provider p ON p.id = b.provider_id
