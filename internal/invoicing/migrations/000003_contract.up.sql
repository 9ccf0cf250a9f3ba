-- The API contract: idempotent retries, keyset pagination and the
-- commit-safe event feed.

-- Idempotency-Key: the response to the first request with a key, stored in
-- the same transaction as the change it describes. body is bytea, not jsonb:
-- a replay must return the stored bytes exactly, and jsonb would re-format
-- them. A key expires 24 hours after created_at; lookups ignore expired rows,
-- and writes that store a key delete a few expired ones (see
-- internal/invoicing/invoicingpg/idempotency.go), through this index.
CREATE TABLE idempotency_keys (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id),
    key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint bytea       NOT NULL,
    status      integer     NOT NULL,
    headers     jsonb       NOT NULL,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- GET /v1/invoices?customer_email=: the same keyset order as
-- invoices_tenant_created, within one customer.
CREATE INDEX invoices_tenant_email_created ON invoices (tenant_id, customer_email, created_at DESC, id DESC);

-- GET /v1/events: the feed reads a tenant's rows in (txid, sequence) order,
-- the order in which they become safe to serve (see internal/invoicing/invoicingpg/events.go).
CREATE INDEX outbox_tenant_txid_sequence ON outbox (tenant_id, txid, sequence);
