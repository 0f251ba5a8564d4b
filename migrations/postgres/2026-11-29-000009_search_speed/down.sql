DELETE FROM settings WHERE key = 'search.grams_version';
DROP INDEX room_posts_time;
DROP INDEX room_posts_live;
