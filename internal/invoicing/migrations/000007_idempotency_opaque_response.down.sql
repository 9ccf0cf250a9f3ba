-- Back to status, headers and body. The stored responses are dropped rather
-- than parsed back: a retry after the downgrade is evaluated afresh, which a
-- key's 24-hour life allows for anyway.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys DROP COLUMN response;
ALTER TABLE idempotency_keys ADD COLUMN status integer NOT NULL, ADD COLUMN headers jsonb NOT NULL, ADD COLUMN body bytea NOT NULL;
