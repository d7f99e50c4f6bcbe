CREATE TRIGGER article_fts_cjk_update AFTER UPDATE OF title, excerpt, body ON article
        WHEN old.title GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR old.excerpt GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR old.body GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.title GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.excerpt GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.body GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' BEGIN
            DELETE FROM article_fts_cjk WHERE rowid = old.id;
            INSERT INTO article_fts_cjk(rowid, title, excerpt, body)
            SELECT new.id, new.title, new.excerpt, new.body WHERE new.title GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.excerpt GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR new.body GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*';
        END
