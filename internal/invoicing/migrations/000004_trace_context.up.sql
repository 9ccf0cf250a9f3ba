-- Correlation of events with the request that caused them: the
-- request id and the W3C trace context, copied into each event's CloudEvent
-- extensions (correlationid, traceparent, tracestate) and NATS headers.
-- Nullable without a default: adding them rewrites nothing, and rows written
-- outside a request (or before this migration) have none.
ALTER TABLE outbox
    ADD COLUMN correlation_id text,
    ADD COLUMN traceparent    text,
    ADD COLUMN tracestate     text;
