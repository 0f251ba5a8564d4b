DROP TABLE event_overrides;
