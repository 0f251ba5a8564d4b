-- A safety officer is a designation on a membership, so the row goes with the membership: a
-- removed officer who rejoined an open room was an officer again (started checks that mailed
-- everyone, read everyone's injuries). Rows whose membership is already gone are dropped.
CREATE TABLE safety_officers_new (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (room_id, user_id),
    FOREIGN KEY (room_id, user_id) REFERENCES room_members (room_id, user_id) ON DELETE CASCADE
);
INSERT INTO safety_officers_new (room_id, user_id)
SELECT s.room_id, s.user_id FROM safety_officers s
WHERE EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = s.room_id AND m.user_id = s.user_id);
DROP TABLE safety_officers;
ALTER TABLE safety_officers_new RENAME TO safety_officers;
