-- Events waiting for approval (承認, issue #12 item 1), as room posts do in rooms with approval:
-- approval is 'published' (shown to every reader), 'pending' (承認待ち: only its author and those
-- who may approve see it) or 'sent_back' (差し戻し, with approval_note: only its author and the
-- approvers). ever_published is set once an event was shown to readers (deleting it then needs
-- publish rights). Existing events were all shown already.
ALTER TABLE events ADD COLUMN approval TEXT NOT NULL DEFAULT 'published';
ALTER TABLE events ADD COLUMN approval_note TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN ever_published BOOLEAN NOT NULL DEFAULT 1;
-- The approvals inbox and the navigation's count read only the waiting ones.
CREATE INDEX events_waiting ON events (room_id) WHERE approval = 'pending';
