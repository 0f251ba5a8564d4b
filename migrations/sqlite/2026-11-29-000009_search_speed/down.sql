-- Back to 000008's indexes. The grams keep their word breaks, which the older queries (phrase, then
-- LIKE) read correctly; the version mark goes, so a later upgrade rebuilds what older code wrote.
DELETE FROM settings WHERE key = 'search.grams_version';

DROP TRIGGER post_grams_au;
DROP TRIGGER post_grams_ad;
DROP TRIGGER post_grams_ai;
DROP TABLE post_grams;
DROP TRIGGER revision_grams_au;
DROP TRIGGER revision_grams_ad;
DROP TRIGGER revision_grams_ai;
DROP TABLE revision_grams;

CREATE VIRTUAL TABLE revision_grams USING fts5(grams, content='post_revisions', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER revision_grams_ai AFTER INSERT ON post_revisions BEGIN
    INSERT INTO revision_grams (rowid, grams) VALUES (new.id, new.grams);
END;
CREATE TRIGGER revision_grams_ad AFTER DELETE ON post_revisions BEGIN
    INSERT INTO revision_grams (revision_grams, rowid, grams) VALUES ('delete', old.id, old.grams);
END;
CREATE TRIGGER revision_grams_au AFTER UPDATE OF grams ON post_revisions BEGIN
    INSERT INTO revision_grams (revision_grams, rowid, grams) VALUES ('delete', old.id, old.grams);
    INSERT INTO revision_grams (rowid, grams) VALUES (new.id, new.grams);
END;
INSERT INTO revision_grams (revision_grams) VALUES ('rebuild');

CREATE VIRTUAL TABLE post_grams USING fts5(grams, content='posts', content_rowid='id', tokenize='unicode61');
CREATE TRIGGER post_grams_ai AFTER INSERT ON posts BEGIN
    INSERT INTO post_grams (rowid, grams) VALUES (new.id, new.grams);
END;
CREATE TRIGGER post_grams_ad AFTER DELETE ON posts BEGIN
    INSERT INTO post_grams (post_grams, rowid, grams) VALUES ('delete', old.id, old.grams);
END;
CREATE TRIGGER post_grams_au AFTER UPDATE OF grams ON posts BEGIN
    INSERT INTO post_grams (post_grams, rowid, grams) VALUES ('delete', old.id, old.grams);
    INSERT INTO post_grams (rowid, grams) VALUES (new.id, new.grams);
END;
INSERT INTO post_grams (post_grams) VALUES ('rebuild');

DROP INDEX room_posts_time;
DROP INDEX room_posts_live;
