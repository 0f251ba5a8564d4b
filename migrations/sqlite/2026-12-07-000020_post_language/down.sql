ALTER TABLE post_revisions DROP COLUMN lang;
