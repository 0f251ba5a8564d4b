-- Reminders by mail (issue #12): a member asks to be reminded `minutes_before` each occurrence of
-- an event starts. The jobs loop queues each reminder of each occurrence once, across processes:
-- it inserts the claim row (unique on the reminder and the occurrence's original start) in the
-- transaction that queues the mail, so a second process's insert fails and it sends nothing.
CREATE TABLE event_reminders (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    minutes_before INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, user_id, minutes_before)
);
CREATE INDEX event_reminders_user ON event_reminders (user_id);
CREATE TABLE event_reminder_sends (
    id BIGSERIAL PRIMARY KEY,
    reminder_id BIGINT NOT NULL REFERENCES event_reminders (id),
    occurrence_start TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    UNIQUE (reminder_id, occurrence_start)
);
