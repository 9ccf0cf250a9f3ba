-- Which reminders will never go out: claimed, then refused for good by the
-- mail server or out of attempts. Without it such a reminder stayed in
-- flight, so its process stayed active (never exhausted, never pruned) and
-- listed that reminder as the next one, long past its time. Empty (the rows
-- of before) reads as none given up.
ALTER TABLE notification.reminder_processes ADD COLUMN given_up boolean[] NOT NULL DEFAULT '{}';
