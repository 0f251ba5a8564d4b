DROP TABLE event_reminder_sends;
DROP TABLE event_reminders;
