DROP INDEX events_facility_end;
ALTER TABLE events DROP COLUMN booking_state;
ALTER TABLE events DROP COLUMN facility_id;
DROP TABLE facility_managers;
DROP TABLE facility_rooms;
DROP TABLE facilities;
