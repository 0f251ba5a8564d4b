-- Tags of audio blobs for the Subsonic API (issue #14), read lazily with lofty the first time a
-- library listing meets a blob, keyed by the blob's SHA-256 so identical bytes are read once for
-- every file (and room) that holds them. No foreign key: a row outlives nothing it needs, and
-- `read_ok = false` remembers a blob lofty could not read (names stand in for its tags).
CREATE TABLE audio_meta (
    blob_sha256 TEXT PRIMARY KEY NOT NULL,
    title TEXT,
    artist TEXT,
    album TEXT,
    album_artist TEXT,
    genre TEXT,
    year INTEGER,
    track INTEGER,
    disc INTEGER,
    duration_ms INTEGER NOT NULL,
    bitrate_kbps INTEGER,
    has_picture BOOLEAN NOT NULL,
    read_ok BOOLEAN NOT NULL,
    read_at TIMESTAMP NOT NULL
);
