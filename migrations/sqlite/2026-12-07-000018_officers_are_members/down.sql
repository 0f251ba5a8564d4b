CREATE TABLE safety_officers_old (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (room_id, user_id)
);
INSERT INTO safety_officers_old (room_id, user_id) SELECT room_id, user_id FROM safety_officers;
DROP TABLE safety_officers;
ALTER TABLE safety_officers_old RENAME TO safety_officers;
