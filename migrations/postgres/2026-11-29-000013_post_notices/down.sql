DROP INDEX room_posts_notice;
ALTER TABLE room_posts DROP COLUMN notified_at;
