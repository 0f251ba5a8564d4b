-- Comments on room posts; in rooms with comment_approval they wait (pending) until approved.
ALTER TABLE rooms ADD COLUMN comment_approval BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE post_comments (
    id BIGSERIAL PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES room_posts (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id),
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX post_comments_post ON post_comments (post_id, id);
