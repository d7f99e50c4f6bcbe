CREATE VIEW provider_summary AS 
        SELECT p.id, p.name, p.domain, count(a.id) AS articles,
               min(a.published_at) AS first_published, max(a.published_at) AS last_published
        FROM provider p LEFT JOIN article a ON a.provider_id = p.id AND a.is_stub = 0
        GROUP BY p.id, p.name, p.domain
    
