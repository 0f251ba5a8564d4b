DROP TABLE post_comments;
ALTER TABLE rooms DROP COLUMN comment_approval;
