-- Profile pictures (issue #15): one per member, a square JPEG made on the server (decoded, turned
-- by its EXIF orientation, cropped, resized, re-encoded, so no metadata of the original survives),
-- kept as a content-addressed blob like a cabinet's files. Garbage collection keeps a blob while a
-- row here or in `files` refers to it, so replacing or removing a picture only drops a reference.
CREATE TABLE user_pictures (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blob_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX user_pictures_blob ON user_pictures (blob_sha256);
