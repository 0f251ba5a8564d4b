-- Back to the foundation's blog tables: the public space's posts (live revision, else the newest
-- one as a draft) are copied into `posts` with their tags, then the public space goes.
CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users (id),
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
    grams TEXT NOT NULL DEFAULT '',
    grams_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', grams)) STORED
);
CREATE INDEX posts_public ON posts (status, published_at);
CREATE INDEX posts_author ON posts (author_id, published_at);
CREATE INDEX posts_grams ON posts USING GIN (grams_tsv);
CREATE TABLE tags (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE post_tags (
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_tag ON post_tags (tag_id, post_id);

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
WHERE NOT rp.deleted;
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
