-- Which reminders are in flight: claimed by their task, which commits the
-- claim before it talks to the mail server and records the send after, so
-- that no lock or transaction is held across the send. Empty (the rows of
-- before) reads as none in flight.
ALTER TABLE notification.reminder_processes ADD COLUMN sending boolean[] NOT NULL DEFAULT '{}';
