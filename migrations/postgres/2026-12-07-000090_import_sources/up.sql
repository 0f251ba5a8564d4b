-- What an import brought in, by its source's own id (a WordPress post, comment, author or
-- attachment), so running the same import again duplicates nothing (issue #13 item 7).
CREATE TABLE import_sources (
    -- The source site, e.g. `wordpress:https://blog.example.org`.
    source TEXT NOT NULL,
    -- The item's id there, with its kind: `post:12`, `comment:34`, `author:admin`, `attachment:56`.
    guid TEXT NOT NULL,
    -- The Yui row it became (`room_posts`, `post_comments`, `users` or `files` id).
    target_id BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, guid)
);
