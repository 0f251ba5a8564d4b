-- Facility reservations (施設予約, issue #12 item 5): meeting rooms and equipment a room may book.
-- Bookable hours are minutes after midnight in the site's zone ([opens_at, closes_at)); weekdays is
-- a bit set, Monday = 1 … Sunday = 64. With all_rooms off, only the rooms in facility_rooms may
-- book. With needs_approval on, a booking waits (pending, 仮予約, still blocking its slot) until one
-- of facility_managers (or a site admin) approves it.
CREATE TABLE facilities (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    opens_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL,
    weekdays INTEGER NOT NULL,
    all_rooms BOOLEAN NOT NULL DEFAULT 1,
    needs_approval BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE facility_rooms (
    id INTEGER PRIMARY KEY NOT NULL,
    facility_id INTEGER NOT NULL REFERENCES facilities (id),
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    UNIQUE (facility_id, room_id)
);
CREATE TABLE facility_managers (
    id INTEGER PRIMARY KEY NOT NULL,
    facility_id INTEGER NOT NULL REFERENCES facilities (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    UNIQUE (facility_id, user_id)
);
-- A reservation is an event of the booking room's calendar (so it is in that calendar and its
-- feeds) that names its facility; booking_state is '' for other events, else confirmed or pending.
ALTER TABLE events ADD COLUMN facility_id INTEGER REFERENCES facilities (id);
ALTER TABLE events ADD COLUMN booking_state TEXT NOT NULL DEFAULT '';
CREATE INDEX events_facility_end ON events (facility_id, series_ends_at, starts_at);
