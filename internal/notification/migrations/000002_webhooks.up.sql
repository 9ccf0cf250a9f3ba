-- Webhooks: the endpoints tenants register, one delivery per (event,
-- endpoint), and the log of each delivery's attempts. The tasks that make
-- the attempts are River jobs (kind notification.webhook) naming a delivery.

CREATE TABLE notification.webhook_endpoints (
    id              uuid        PRIMARY KEY, -- UUIDv7: time-ordered, the list's cursor
    tenant_id       text        NOT NULL,
    url             text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    enabled_events  text[]      NOT NULL,
    status          text        NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason text        NOT NULL DEFAULT '',
    secret          text        NOT NULL,
    -- The secret before the last rotation, still signing until previous_until.
    previous_secret text        NOT NULL DEFAULT '',
    previous_until  timestamptz,
    -- Start of the current run of failed attempts (NULL after a success):
    -- WEBHOOK_DISABLE_AFTER counts from it.
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON notification.webhook_endpoints (tenant_id, id);

CREATE TABLE notification.webhook_deliveries (
    id              uuid        PRIMARY KEY, -- UUIDv7
    endpoint_id     uuid        NOT NULL REFERENCES notification.webhook_endpoints ON DELETE CASCADE,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    event_time      timestamptz NOT NULL,
    -- The CloudEvent exactly as published: the body of every attempt.
    body            bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- Failed attempts since it was last queued (retry and replay reset it):
    -- where it stands in WEBHOOK_RETRY_SCHEDULE.
    failures        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint ON notification.webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_event_time ON notification.webhook_deliveries (endpoint_id, event_time);
CREATE INDEX webhook_deliveries_created_at ON notification.webhook_deliveries (created_at);

CREATE TABLE notification.webhook_attempts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid        NOT NULL REFERENCES notification.webhook_deliveries ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status_code int,        -- NULL: no response
    duration_ms int         NOT NULL,
    error       text        NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON notification.webhook_attempts (delivery_id, id);
