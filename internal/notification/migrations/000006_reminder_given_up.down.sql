ALTER TABLE notification.reminder_processes DROP COLUMN given_up;
