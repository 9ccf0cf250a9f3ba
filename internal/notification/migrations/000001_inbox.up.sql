-- The notification context's own tables, in its own schema (created by
-- postgres.Migrate before golang-migrate runs, since its version table lives
-- here too). River's tables join them in this schema through River's own
-- migrator.

-- One row per event a consumer has handled: a re-delivered event finds its
-- row and is skipped. Rows older than NOTIFY_INBOX_RETENTION are pruned.
CREATE TABLE notification.inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_received_at ON notification.inbox (received_at);

-- Who an invoice's emails go to, learned from the events that name the
-- customer (issued, paid), for those that do not (voided).
CREATE TABLE notification.recipients (
    invoice_id text        PRIMARY KEY,
    name       text        NOT NULL,
    email      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
