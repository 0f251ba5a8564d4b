DELETE FROM settings WHERE key = 'search.grams_version';
DROP INDEX posts_grams;
DROP INDEX post_revisions_grams;
ALTER TABLE posts DROP COLUMN grams_tsv;
ALTER TABLE post_revisions DROP COLUMN grams_tsv;
CREATE INDEX post_revisions_grams ON post_revisions USING GIN (to_tsvector('simple', grams));
CREATE INDEX posts_grams ON posts USING GIN (to_tsvector('simple', grams));
DROP INDEX room_posts_time;
DROP INDEX room_posts_live;
