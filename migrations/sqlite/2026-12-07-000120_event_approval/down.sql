DROP INDEX events_waiting;
ALTER TABLE events DROP COLUMN ever_published;
ALTER TABLE events DROP COLUMN approval_note;
ALTER TABLE events DROP COLUMN approval;
