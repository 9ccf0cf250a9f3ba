DROP INDEX IF EXISTS outbox_published_at;
DROP INDEX IF EXISTS outbox_parked;
DROP INDEX IF EXISTS outbox_failing;
ALTER TABLE outbox
    DROP COLUMN IF EXISTS failed_at,
    DROP COLUMN IF EXISTS next_attempt_at;
