-- Rooms (community rooms, sub-rooms), their members with one of five roles, and the per-room
-- overrides of the adjustable cells of the permission matrix (DESIGN.md §4).
CREATE TABLE rooms (
    id BIGSERIAL PRIMARY KEY,
    parent_id BIGINT REFERENCES rooms (id),
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL,
    state TEXT NOT NULL,
    default_role TEXT NOT NULL,
    join_policy TEXT NOT NULL,
    need_approval BOOLEAN NOT NULL DEFAULT FALSE,
    quota_bytes BIGINT NOT NULL,
    features TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX rooms_parent ON rooms (parent_id);

CREATE TABLE room_members (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE room_permissions (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    role TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    PRIMARY KEY (room_id, permission, role)
);
