-- A member's own time zone for the calendar (an IANA name such as `Europe/Berlin`, issue #12);
-- NULL: the site's zone (`site.timezone`).
ALTER TABLE users ADD COLUMN timezone TEXT;
