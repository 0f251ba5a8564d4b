DROP TABLE digest_items;
DROP TABLE room_notification_prefs;
