-- Per-member stars and playlists of the Subsonic API (issue #14). A star names a Subsonic id
-- (`s<file>`, `al…`, `ar…`); a playlist entry names a file, and is shown only while the member
-- may still read that file (the listing filters it; the row stays, so access restored brings it back).
CREATE TABLE subsonic_stars (
    user_id BIGINT NOT NULL REFERENCES users (id),
    item TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, item)
);
CREATE TABLE playlists (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX playlists_user ON playlists (user_id);
CREATE TABLE playlist_entries (
    playlist_id BIGINT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    file_id BIGINT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position)
);
CREATE INDEX playlist_entries_file ON playlist_entries (file_id);
