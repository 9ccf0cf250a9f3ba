ALTER TABLE outbox
    DROP COLUMN IF EXISTS tracestate,
    DROP COLUMN IF EXISTS traceparent,
    DROP COLUMN IF EXISTS correlation_id;
