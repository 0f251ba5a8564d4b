-- How each member wants to hear about new posts in a room: every (a mail each), digest (one mail a
-- day), none. No row means "every".
CREATE TABLE room_notification_prefs (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- New posts waiting for a member's daily digest.
CREATE TABLE digest_items (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES room_posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX digest_items_user ON digest_items (user_id, id);
