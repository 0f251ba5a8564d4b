-- Shared files (DESIGN.md §6): immutable content-addressed blobs on disk, and per room a cabinet of
-- folders and files that point at them. Names are Unicode text (NFC), never paths.

-- One row per blob file under blobs/ab/cd/<sha256>. A blob is removed only by garbage collection,
-- when no file or upload refers to it and it has not been used for a while (last_used_at).
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    last_used_at TIMESTAMP NOT NULL
);

-- Every room's cabinet has one root folder (parent_id NULL), created on first use.
CREATE TABLE folders (
    id BIGSERIAL PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES folders (id),
    name TEXT NOT NULL,
    -- NFC + lower case: two names that differ only in case or normalisation are the same name.
    name_key TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    -- In the trash since then (its contents go with it); purged after 30 days.
    deleted_at TIMESTAMP,
    deleted_by BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX folders_root ON folders (room_id) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX folders_name ON folders (parent_id, name_key) WHERE deleted_at IS NULL;
CREATE INDEX folders_trash ON folders (room_id, deleted_at);

CREATE TABLE files (
    id BIGSERIAL PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    folder_id BIGINT NOT NULL REFERENCES folders (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    -- From the audio file's tags, when it has them.
    title TEXT,
    artist TEXT,
    album TEXT,
    track BIGINT,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    deleted_by BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX files_name ON files (folder_id, name_key) WHERE deleted_at IS NULL;
CREATE INDEX files_room ON files (room_id, deleted_at);
CREATE INDEX files_blob ON files (blob_sha256);

-- A resumable upload in progress: its bytes are in uploads/<id>.part until it is finished.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY NOT NULL,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    folder_id BIGINT NOT NULL REFERENCES folders (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX uploads_room ON uploads (room_id);
