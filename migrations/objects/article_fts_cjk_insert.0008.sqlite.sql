CREATE TRIGGER article_fts_cjk_insert AFTER INSERT ON article
        WHEN new.title GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.excerpt GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.body GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' BEGIN
            INSERT INTO article_fts_cjk(rowid, title, excerpt, body)
            VALUES (new.id, new.title, new.excerpt, new.body);
        END
