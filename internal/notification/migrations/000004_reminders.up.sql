-- One payment reminder process per invoice, changed only by the invoice's
-- events (in the inbox's transaction) and by its own reminder tasks (in
-- theirs). Rows not active are pruned with the inbox, past its retention:
-- no redelivery of the invoice's events can come later, and a later event
-- is newer than everything they knew.
CREATE TABLE notification.reminder_processes (
    invoice_id       text        PRIMARY KEY,
    tenant_id        text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('pending', 'active', 'exhausted', 'closed')),
    -- The highest invoiceversion applied: older events never change the amount.
    version          bigint      NOT NULL,
    amount_due       bigint      NOT NULL,
    overdue_event_id text        NOT NULL DEFAULT '',
    -- The overdue event's data (number, customer, currency, due date,
    -- overdue_at) as the reminders name it; {} before it.
    overdue          jsonb       NOT NULL DEFAULT '{}',
    due              timestamptz[] NOT NULL DEFAULT '{}',
    sent             boolean[]   NOT NULL DEFAULT '{}',
    -- The reminder tasks' River job ids, cancelled when the process closes.
    jobs             bigint[]    NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reminder_processes_settled ON notification.reminder_processes (updated_at) WHERE state <> 'active';
