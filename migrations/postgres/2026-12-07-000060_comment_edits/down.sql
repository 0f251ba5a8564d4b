ALTER TABLE post_comments DROP COLUMN edited_at;
