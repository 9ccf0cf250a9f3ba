DROP INDEX IF EXISTS outbox_holds;
CREATE INDEX outbox_failing ON outbox (aggregate_id, sequence)
    WHERE published_at IS NULL AND attempts > 0;
