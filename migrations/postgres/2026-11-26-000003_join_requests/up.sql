-- Requests to join rooms whose policy is "request"; a manager approves or declines each.
CREATE TABLE room_join_requests (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_join_requests_user ON room_join_requests (user_id);
