-- Back to framed HTTP answers only. The results stored since cannot be
-- framed here (the HTTP layer frames them), so their keys are dropped: a
-- retry after the downgrade is evaluated afresh, as one after the key's 24
-- hours would be.
DELETE FROM idempotency_keys WHERE response IS NULL;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_result_or_response,
    DROP COLUMN resource_kind,
    DROP COLUMN resource_id,
    DROP COLUMN resource_version,
    DROP COLUMN resource_view,
    ALTER COLUMN response SET NOT NULL;
