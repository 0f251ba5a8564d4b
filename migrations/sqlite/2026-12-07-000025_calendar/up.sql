-- Room calendars (issue #12): one row per event or series; a series keeps its rule (RRULE text,
-- EXDATE list) and is expanded on read within the window asked, never one row per occurrence.
-- A member's private calendar is the calendar of their private room.
-- Timed events: starts_at/ends_at in UTC, `tz` is the zone the rule repeats in (DST-correct).
-- All-day events: starts_at/ends_at hold the first day and the day after the last at 00:00
-- (dates, not instants). `series_ends_at` bounds the last occurrence's end (NULL: never ends), so a
-- window query reads per room only what ends after the window starts (past events are never read).
CREATE TABLE events (
    id INTEGER PRIMARY KEY NOT NULL,
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description_md TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    tz TEXT NOT NULL,
    all_day BOOLEAN NOT NULL DEFAULT 0,
    rrule TEXT NOT NULL DEFAULT '',
    exdates TEXT NOT NULL DEFAULT '',
    series_ends_at TIMESTAMP,
    sequence INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX events_room_end ON events (room_id, series_ends_at, starts_at);
-- Secret iCalendar feed addresses (/ical/{token}.ics), per member and room; only the token's
-- SHA-256 is kept. A revoked feed keeps its row (revoked_at) so the address stays dead.
CREATE TABLE calendar_feeds (
    id INTEGER PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_feeds_user_room ON calendar_feeds (user_id, room_id);
