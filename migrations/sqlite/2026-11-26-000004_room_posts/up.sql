-- Room posts with revisions (承認 workflow, DESIGN.md §5): every save is a revision with a status;
-- the post's live revision is what readers see, and it stays live while a newer one waits.
CREATE TABLE room_posts (
    id INTEGER PRIMARY KEY NOT NULL,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id),
    -- The published revision readers see (no foreign key: the two tables point at each other).
    live_revision_id BIGINT,
    -- The live revision's publishing window, copied here so a room's list is one index range.
    published_at TIMESTAMP,
    publish_until TIMESTAMP,
    ever_published BOOLEAN NOT NULL DEFAULT 0,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX room_posts_room ON room_posts (room_id, deleted, published_at);
CREATE INDEX room_posts_author ON room_posts (author_id);

CREATE TABLE post_revisions (
    id INTEGER PRIMARY KEY NOT NULL,
    post_id INTEGER NOT NULL REFERENCES room_posts (id) ON DELETE CASCADE,
    editor_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    excerpt TEXT NOT NULL,
    -- NFKC, lower-cased title and text: what search matches against.
    search_text TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    publish_at TIMESTAMP,
    publish_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);
CREATE INDEX post_revisions_status ON post_revisions (status, post_id);
