-- Invitations by email: the link carries a random token (only its SHA-256 is stored), works once,
-- and also lets someone without an account create one and land in the room.
CREATE TABLE room_invitations (
    id BIGSERIAL PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_by BIGINT REFERENCES users (id)
);
CREATE INDEX room_invitations_room ON room_invitations (room_id, accepted_at);
