-- The public space (issue #3, DESIGN.md §4): the site blog becomes the blog of a room like any
-- other, under the same roles, revisions and approval (承認). The foundation's `posts`, `tags` and
-- `post_tags` are copied into `room_posts` + `post_revisions` + `room_post_tags` and dropped.

-- 1. Which kind of space a room is: 'public' (exactly one), 'community' or 'private' (マイルーム).
ALTER TABLE rooms ADD COLUMN space TEXT NOT NULL DEFAULT 'community';
UPDATE rooms SET space = 'private' WHERE slug ~ '^my-[0-9]+$';
CREATE UNIQUE INDEX rooms_public_space ON rooms (space) WHERE space = 'public';
INSERT INTO rooms (slug, name, description, visibility, state, default_role, join_policy,
                   need_approval, comment_approval, quota_bytes, features, archived,
                   created_at, updated_at, space)
SELECT CASE WHEN EXISTS (SELECT 1 FROM rooms WHERE slug = 'public') THEN 'public-space' ELSE 'public' END,
       '公開スペース', '', 'public', 'open', 'guest', 'invite',
       TRUE, FALSE, 1073741824, 'blog,files', FALSE,
       (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 'public';

-- 2. Blog posts have an address (slug) and tags. A revision carries its tags, so a tag change waits
--    for approval like the text; `room_post_tags` holds the live revision's tags for the tag pages.
ALTER TABLE room_posts ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX room_posts_slug ON room_posts (room_id, slug);
ALTER TABLE post_revisions ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE TABLE room_post_tags (
    post_id BIGINT NOT NULL REFERENCES room_posts (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    -- The post's room and publishing window, copied so a tag page is one index walk newest first
    -- that reads no other row, deep pages included (100,000 posts). A deleted post has no rows.
    room_id BIGINT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    publish_until TIMESTAMP,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX room_post_tags_list ON room_post_tags (room_id, tag, published_at, post_id, publish_until);
-- The public lists (front page, author pages) walk these newest first, deep pages included,
-- without reading a row: the publishing window is in the index.
CREATE INDEX room_posts_list ON room_posts (room_id, deleted, published_at, id, publish_until);
CREATE INDEX room_posts_author_list ON room_posts (room_id, author_id, deleted, published_at, id, publish_until);

-- 3. Every blog post becomes a post of the public space with one revision. Posts already public
--    count as announced (the old blog mailed nobody); drafts and scheduled ones are announced when
--    they go live, like any room post.
INSERT INTO room_posts (room_id, author_id, slug, published_at, publish_until, ever_published,
                        deleted, created_at, updated_at, notified_at)
SELECT r.id, p.author_id, p.slug,
       CASE WHEN p.status = 'published' THEN p.published_at END, NULL,
       p.status = 'published', FALSE, p.created_at, p.updated_at,
       CASE WHEN p.status = 'published' AND p.published_at <= (now() AT TIME ZONE 'UTC') THEN p.published_at END
FROM posts p CROSS JOIN rooms r
WHERE r.space = 'public'
ORDER BY p.id;

INSERT INTO post_revisions (post_id, editor_id, title, body_md, body_html, excerpt, search_text,
                            status, note, publish_at, publish_until, created_at, decided_by,
                            decided_at, grams, tags)
SELECT rp.id, p.author_id, p.title, p.body_md, p.body_html, p.excerpt, p.search_text,
       p.status, '', p.published_at, NULL, p.updated_at,
       CASE WHEN p.status = 'published' THEN p.author_id END,
       CASE WHEN p.status = 'published' THEN p.updated_at END,
       p.grams,
       COALESCE((SELECT string_agg(t.name, ', ') FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
                 WHERE pt.post_id = p.id), '')
FROM posts p
JOIN rooms r ON r.space = 'public'
JOIN room_posts rp ON rp.room_id = r.id AND rp.slug = p.slug
ORDER BY p.id;

UPDATE room_posts
SET live_revision_id = (SELECT v.id FROM post_revisions v
                        WHERE v.post_id = room_posts.id AND v.status = 'published')
WHERE room_id = (SELECT id FROM rooms WHERE space = 'public');

INSERT INTO room_post_tags (post_id, tag, room_id, published_at, publish_until)
SELECT rp.id, t.name, rp.room_id, rp.published_at, rp.publish_until
FROM posts p
JOIN post_tags pt ON pt.post_id = p.id
JOIN tags t ON t.id = pt.tag_id
JOIN rooms r ON r.space = 'public'
JOIN room_posts rp ON rp.room_id = r.id AND rp.slug = p.slug
WHERE p.status = 'published';

-- 4. The foundation's blog tables go.
DROP TABLE post_tags;
DROP TABLE tags;
DROP TABLE posts;
