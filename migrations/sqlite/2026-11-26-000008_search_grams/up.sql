-- A search index that finds Japanese words of two characters and more: `grams` holds the text as
-- space-separated character bigrams (会議資料 → "会議 議資 資料"), indexed by FTS5; a word becomes a
-- phrase of its bigrams. The tables keep `search_text` for the exact LIKE check and 1-character terms.
ALTER TABLE post_revisions ADD COLUMN grams TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN grams TEXT NOT NULL DEFAULT '';

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
