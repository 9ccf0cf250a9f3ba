-- Back to marking each row: a row is published if it sorts at or below the
-- position and is not held; held rows keep their state.
ALTER TABLE outbox
    ADD COLUMN published_at    timestamptz,
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error      text,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN failed_at       timestamptz;

UPDATE outbox o SET published_at = now()
FROM outbox_position p
WHERE p.partition = 0 AND (o.txid, o.sequence) <= (p.txid, p.sequence)
  AND NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence);

UPDATE outbox o SET attempts = h.attempts, last_error = h.last_error,
    next_attempt_at = h.next_attempt_at, failed_at = h.failed_at
FROM outbox_held h WHERE h.sequence = o.sequence;

DROP TABLE outbox_held;
DROP TABLE outbox_position;
DROP INDEX IF EXISTS outbox_txid_sequence;

CREATE INDEX outbox_unpublished ON outbox (sequence) WHERE published_at IS NULL;
CREATE INDEX outbox_parked ON outbox (sequence)
    WHERE failed_at IS NOT NULL AND published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at)
    WHERE published_at IS NOT NULL;
CREATE INDEX outbox_holds ON outbox (aggregate_id, sequence)
    WHERE failed_at IS NOT NULL OR next_attempt_at IS NOT NULL;
