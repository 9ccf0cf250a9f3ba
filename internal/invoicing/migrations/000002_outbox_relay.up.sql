-- The relay's bookkeeping of failed publishes.
--   next_attempt_at: a record the broker rejected is not retried before it.
--   failed_at: set when the record is parked after RELAY_MAX_ATTEMPTS; it
--   then waits, with the later events of its invoice, for `outbox retry`.
-- Both stay NULL for the (usual) record that is published at once.
ALTER TABLE outbox
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN failed_at       timestamptz;

-- Records that failed at least once and are not yet published: the relay
-- checks it for an earlier failing record of the same invoice before sending
-- a later one (per-invoice order). Tiny: almost every record publishes on
-- its first attempt.
CREATE INDEX outbox_failing ON outbox (aggregate_id, sequence)
    WHERE published_at IS NULL AND attempts > 0;

-- `outbox failed` lists parked records.
CREATE INDEX outbox_parked ON outbox (sequence)
    WHERE failed_at IS NOT NULL AND published_at IS NULL;

-- Pruning finds the oldest published records without scanning the table.
CREATE INDEX outbox_published_at ON outbox (published_at)
    WHERE published_at IS NOT NULL;
