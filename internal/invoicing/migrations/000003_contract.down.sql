DROP INDEX IF EXISTS outbox_tenant_txid_sequence;
DROP INDEX IF EXISTS invoices_tenant_email_created;
DROP TABLE IF EXISTS idempotency_keys;
