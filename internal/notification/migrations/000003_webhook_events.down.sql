ALTER TABLE notification.webhook_deliveries ADD COLUMN body bytea;
UPDATE notification.webhook_deliveries d SET body = e.body FROM notification.webhook_events e WHERE e.id = d.event_id;
DROP INDEX notification.webhook_deliveries_event;
ALTER TABLE notification.webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_event_id_fkey,
    ALTER COLUMN body SET NOT NULL;
DROP TABLE notification.webhook_events;
