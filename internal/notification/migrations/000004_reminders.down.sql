DROP TABLE notification.reminder_processes;
