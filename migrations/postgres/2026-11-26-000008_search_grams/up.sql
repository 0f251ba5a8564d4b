-- A search index that finds Japanese words of two characters and more: `grams` holds the text as
-- space-separated character bigrams (会議資料 → "会議 議資 資料"), indexed by GIN over a 'simple'
-- tsvector; a word becomes a phrase query of its bigrams. `search_text` stays for the exact check.
ALTER TABLE post_revisions ADD COLUMN grams TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN grams TEXT NOT NULL DEFAULT '';
CREATE INDEX post_revisions_grams ON post_revisions USING GIN (to_tsvector('simple', grams));
CREATE INDEX posts_grams ON posts USING GIN (to_tsvector('simple', grams));
