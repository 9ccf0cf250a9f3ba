-- An event's body is stored once, however many endpoints it goes to, and
-- deliveries refer to it. Written into every delivery, one large event to
-- many endpoints wrote its body that many times in the fan-out's one
-- transaction, and the array carrying those bodies could pass the limit
-- PostgreSQL sets on one value (1 GB).

CREATE TABLE notification.webhook_events (
    id         text        PRIMARY KEY, -- the event id (webhook-id)
    -- The CloudEvent exactly as published: the body of every attempt of
    -- every delivery of the event.
    body       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Bodies left without deliveries are pruned with the deliveries, by age.
CREATE INDEX webhook_events_created_at ON notification.webhook_events (created_at);

INSERT INTO notification.webhook_events (id, body, created_at)
SELECT DISTINCT ON (event_id) event_id, body, created_at
FROM notification.webhook_deliveries
ORDER BY event_id, created_at;

ALTER TABLE notification.webhook_deliveries
    DROP COLUMN body,
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES notification.webhook_events;
-- For the foreign key's checks when a body is pruned, and the pruning's
-- search for bodies no delivery refers to.
CREATE INDEX webhook_deliveries_event ON notification.webhook_deliveries (event_id);
