-- A safety officer is a designation on a membership, so the row goes with the membership: a
-- removed officer who rejoined an open room was an officer again (started checks that mailed
-- everyone, read everyone's injuries). Rows whose membership is already gone are dropped.
DELETE FROM safety_officers s
WHERE NOT EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = s.room_id AND m.user_id = s.user_id);
ALTER TABLE safety_officers ADD CONSTRAINT safety_officers_membership
    FOREIGN KEY (room_id, user_id) REFERENCES room_members (room_id, user_id) ON DELETE CASCADE;
