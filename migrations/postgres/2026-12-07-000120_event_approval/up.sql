-- Events waiting for approval (承認, issue #12 item 1), as room posts do in rooms with approval:
-- approval is 'published' (shown to every reader), 'pending' (承認待ち: only its author and those
-- who may approve see it) or 'sent_back' (差し戻し, with approval_note: only its author and the
-- approvers). ever_published is set once readers were shown an event in a room with approval (by
-- an approval, or saved there by someone who may publish): deleting it then needs publish rights.
-- In a room without approval anyone who may write publishes, so nothing is set there, and events
-- saved before this migration are as they were (deleted by their author or an editor).
ALTER TABLE events ADD COLUMN approval TEXT NOT NULL DEFAULT 'published';
ALTER TABLE events ADD COLUMN approval_note TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN ever_published BOOLEAN NOT NULL DEFAULT FALSE;
-- The approvals inbox and the navigation's count read only the waiting ones.
CREATE INDEX events_waiting ON events (room_id) WHERE approval = 'pending';
