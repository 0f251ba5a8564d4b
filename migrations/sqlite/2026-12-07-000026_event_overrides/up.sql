-- One changed occurrence of a series (issue #12: "edit this occurrence"): the series keeps its rule,
-- and the occurrence that started at `recurrence_id` (UTC, or the date at 00:00 for all-day
-- events; the RECURRENCE-ID of RFC 5545) shows these fields and times instead. A deleted
-- occurrence is an EXDATE of the series, not a row here. Times as in `events`.
CREATE TABLE event_overrides (
    id INTEGER PRIMARY KEY NOT NULL,
    event_id INTEGER NOT NULL REFERENCES events (id),
    recurrence_id TIMESTAMP NOT NULL,
    title TEXT NOT NULL,
    description_md TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, recurrence_id)
);
-- Occurrences moved into a window from a day outside it are found by their own times.
CREATE INDEX event_overrides_starts ON event_overrides (starts_at);
