-- The response stored with an idempotency key becomes one opaque value, the
-- caller's bytes: the repository stores and returns it without knowing that
-- the caller is HTTP. The HTTP layer frames its status and headers with the
-- body (internal/invoicing/invoicinghttp/stored.go):
--   <status>\n<Header>: <value>\n...\n\n<body>
-- Rows stored before are converted to that framing, so a retry of a request
-- answered before the upgrade is still replayed byte for byte.
ALTER TABLE idempotency_keys ADD COLUMN response bytea;
UPDATE idempotency_keys SET response =
    convert_to(status::text || E'\n' ||
        coalesce((SELECT string_agg(h.key || ': ' || h.value || E'\n', '' ORDER BY h.key)
                  FROM jsonb_each_text(headers) h), '') || E'\n', 'UTF8') || body;
ALTER TABLE idempotency_keys ALTER COLUMN response SET NOT NULL;
ALTER TABLE idempotency_keys DROP COLUMN status, DROP COLUMN headers, DROP COLUMN body;
