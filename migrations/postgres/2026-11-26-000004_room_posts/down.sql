DROP TABLE post_revisions;
DROP TABLE room_posts;
