-- Comments on room posts; in rooms with comment_approval they wait (pending) until approved.
ALTER TABLE rooms ADD COLUMN comment_approval BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE post_comments (
    id INTEGER PRIMARY KEY NOT NULL,
    post_id INTEGER NOT NULL REFERENCES room_posts (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id),
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX post_comments_post ON post_comments (post_id, id);
