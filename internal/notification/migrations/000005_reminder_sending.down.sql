ALTER TABLE notification.reminder_processes DROP COLUMN sending;
