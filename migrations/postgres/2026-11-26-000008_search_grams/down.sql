DROP INDEX posts_grams;
DROP INDEX post_revisions_grams;
ALTER TABLE posts DROP COLUMN grams;
ALTER TABLE post_revisions DROP COLUMN grams;
