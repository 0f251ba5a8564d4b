-- A private room (マイルーム) belongs to its owner and is found by its owner, never by its address:
-- a manager could rename any room they managed to `my-<id of another member>`, and that member's
-- first visit to /me/room landed in the attacker's room, named as theirs.
ALTER TABLE rooms ADD COLUMN owner_id BIGINT REFERENCES users (id);
-- The owner of an existing private room is the member its address names, if they manage it and
-- nobody joined it before them (a private room's owner joins at its creation; a renamed room
-- still has its first manager, the one who renamed it).
UPDATE rooms SET owner_id = (
    SELECT m.user_id FROM room_members m
    WHERE m.room_id = rooms.id AND m.role = 'manager' AND 'my-' || m.user_id = rooms.slug
      AND NOT EXISTS (SELECT 1 FROM room_members o
                      WHERE o.room_id = rooms.id AND o.joined_at < m.joined_at)
)
WHERE space = 'private';
-- A "private" room nobody owns is somebody else's room under a borrowed name: an ordinary room.
UPDATE rooms SET space = 'community' WHERE space = 'private' AND owner_id IS NULL;
CREATE UNIQUE INDEX rooms_private_owner ON rooms (owner_id) WHERE space = 'private';
