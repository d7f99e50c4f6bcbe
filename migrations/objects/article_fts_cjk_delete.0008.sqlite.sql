CREATE TRIGGER article_fts_cjk_delete AFTER DELETE ON article
        WHEN old.title GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR old.excerpt GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' OR old.body GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ𠀀-𱍏]*' BEGIN
            DELETE FROM article_fts_cjk WHERE rowid = old.id;
        END
