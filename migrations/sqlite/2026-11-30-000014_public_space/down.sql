-- Back to the foundation's blog tables: the public space's posts (live revision, else the newest
-- one as a draft) are copied into `posts` with their tags, then the public space goes.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    search_text TEXT NOT NULL,
    status TEXT NOT NULL,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    grams TEXT NOT NULL DEFAULT ''
);
CREATE INDEX posts_public ON posts (status, published_at);
CREATE INDEX posts_author ON posts (author_id, published_at);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_tag ON post_tags (tag_id, post_id);
CREATE VIRTUAL TABLE post_grams USING fts5(grams, content='posts', content_rowid='id', tokenize='ascii', prefix='1');
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

INSERT INTO posts (author_id, title, slug, body_md, body_html, excerpt, search_text, status,
                   published_at, created_at, updated_at, grams)
SELECT rp.author_id, v.title, COALESCE(rp.slug, 'post-' || rp.id), v.body_md, v.body_html,
       v.excerpt, v.search_text,
       CASE WHEN rp.live_revision_id IS NOT NULL THEN 'published' ELSE 'draft' END,
       COALESCE(rp.published_at, v.publish_at), rp.created_at, rp.updated_at, v.grams
FROM room_posts rp
JOIN rooms r ON r.id = rp.room_id AND r.space = 'public'
JOIN post_revisions v ON v.id = COALESCE(rp.live_revision_id,
    (SELECT max(x.id) FROM post_revisions x WHERE x.post_id = rp.id))
WHERE rp.deleted = 0;
INSERT INTO tags (name)
SELECT DISTINCT pt.tag FROM room_post_tags pt
JOIN room_posts rp ON rp.id = pt.post_id
JOIN rooms r ON r.id = rp.room_id AND r.space = 'public';
INSERT INTO post_tags (post_id, tag_id)
SELECT p.id, t.id
FROM room_post_tags pt
JOIN room_posts rp ON rp.id = pt.post_id
JOIN rooms r ON r.id = rp.room_id AND r.space = 'public'
JOIN posts p ON p.slug = COALESCE(rp.slug, 'post-' || rp.id)
JOIN tags t ON t.name = pt.tag;

DELETE FROM post_revisions WHERE post_id IN
    (SELECT rp.id FROM room_posts rp JOIN rooms r ON r.id = rp.room_id WHERE r.space = 'public');
DELETE FROM room_posts WHERE room_id IN (SELECT id FROM rooms WHERE space = 'public');
-- Its sub-rooms stay, at the top level (the public space they hung under goes).
UPDATE rooms SET parent_id = NULL WHERE parent_id IN (SELECT id FROM rooms WHERE space = 'public');
DELETE FROM rooms WHERE space = 'public';

DROP TABLE room_post_tags;
DROP INDEX room_posts_author_list;
DROP INDEX room_posts_list;
ALTER TABLE post_revisions DROP COLUMN tags;
DROP INDEX room_posts_slug;
ALTER TABLE room_posts DROP COLUMN slug;
DROP INDEX rooms_public_space;
ALTER TABLE rooms DROP COLUMN space;
