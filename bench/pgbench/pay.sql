-- One pay transaction, statement for statement what the service sends for
-- POST /v1/invoices/{id}/payments, in the same three round trips:
--   1. BEGIN + the lock timeout + the invoice's row lock + load the invoice
--      with its lines and payments (pipelined);
--   2. the version-guarded UPDATE, the payment insert, the outbox insert of
--      its two events (payment_recorded, paid), pipelined;
--   3. COMMIT.
-- Generated from internal/invoicing/invoicingpg (lockTimeoutSQL, lockInvoiceSQL,
-- getSQL, updateInvoiceSQL, insertPaymentsSQL, insertOutboxSQL) by
--   go test ./internal/invoicing/invoicingpg -run TestPgbenchPayScriptIsTheServiceSQL -update-pgbench
-- Run with -M prepared (pgx prepares its statements too) and
-- -D i=0 -D clients=C -D invoices=N: client c pays invoices c+1, c+1+C, ...,
-- so every transaction pays a fresh, open invoice seeded by seed.sql.
\set i :i + 1
\set n 1 + (:client_id + :clients * (:i - 1)) % :invoices
\startpipeline
BEGIN;
SELECT set_config('lock_timeout', '5000ms', true);
SELECT FROM invoices WHERE id = lpad(to_hex(:n::bigint), 32, '0')::uuid AND tenant_id = '00000000-0000-7000-8000-0000000000b1' FOR NO KEY UPDATE;
SELECT i.id, i.tenant_id, i.number, i.status, i.currency, i.customer_name, i.customer_email,
       i.due_date, i.issued_at, i.paid_at, i.voided_at, i.void_reason, i.version, i.created_at, i.updated_at,
       i.metadata, i.marked_uncollectible_at, i.overdue_at,
       i.pre_payment_credit, i.post_payment_credit,
       l.ids, l.descriptions, l.quantities, l.unit_amounts, l.tax_rates,
       p.ids, p.amounts, p.refs, p.received
FROM (SELECT * FROM invoices WHERE id = lpad(to_hex(:n::bigint), 32, '0')::uuid AND tenant_id = '00000000-0000-7000-8000-0000000000b1') i
CROSS JOIN LATERAL (
    SELECT array_agg(id ORDER BY position) AS ids,
           array_agg(description ORDER BY position) AS descriptions,
           array_agg(quantity ORDER BY position) AS quantities,
           array_agg(unit_amount ORDER BY position) AS unit_amounts,
           array_agg(tax_rate_bps::bigint ORDER BY position) AS tax_rates
    FROM invoice_lines WHERE invoice_id = i.id
) l
CROSS JOIN LATERAL (
    SELECT array_agg(id ORDER BY received_at, id) AS ids,
           array_agg(amount ORDER BY received_at, id) AS amounts,
           array_agg(reference ORDER BY received_at, id) AS refs,
           array_agg(received_at ORDER BY received_at, id) AS received
    FROM payments WHERE invoice_id = i.id
) p;
\endpipeline
\startpipeline
UPDATE invoices SET number = 'INV-2030-' || lpad(:n::text, 7, '0'), status = 'paid', customer_name = 'Load Test GmbH', customer_email = 'billing@load.example',
    due_date = '2030-12-31', subtotal = 169997::bigint, tax = 29450::bigint, total = 199447::bigint, amount_paid = 199447::bigint,
    issued_at = now(), paid_at = now(), voided_at = NULL, void_reason = NULL, version = 4::bigint, updated_at = now(),
    currency = 'EUR', metadata = '{}'::jsonb, marked_uncollectible_at = NULL, overdue_at = NULL,
    pre_payment_credit = 0::bigint, post_payment_credit = 0::bigint
WHERE id = lpad(to_hex(:n::bigint), 32, '0')::uuid AND tenant_id = '00000000-0000-7000-8000-0000000000b1' AND version = 2::bigint;
INSERT INTO payments (id, invoice_id, amount, reference, received_at)
SELECT p.id, lpad(to_hex(:n::bigint), 32, '0')::uuid, p.amount, p.reference, p.received_at
FROM unnest(ARRAY[gen_random_uuid()]::uuid[], ARRAY[199447]::bigint[], ARRAY['pgbench-' || gen_random_uuid()]::text[], ARRAY[now()]::timestamptz[])
    WITH ORDINALITY AS p (id, amount, reference, received_at, n)
ORDER BY p.n;
INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, payload, occurred_at,
    correlation_id, traceparent, tracestate)
SELECT e.event_id, e.tenant_id, e.aggregate_id, e.aggregate_version, e.event_type, e.data::json, e.data::jsonb, e.occurred_at,
    'req-' || :n::text, NULL::text, NULL::text
FROM unnest(ARRAY[gen_random_uuid(), gen_random_uuid()]::uuid[], ARRAY['00000000-0000-7000-8000-0000000000b1', '00000000-0000-7000-8000-0000000000b1']::uuid[], ARRAY[lpad(to_hex(:n::bigint), 32, '0')::uuid, lpad(to_hex(:n::bigint), 32, '0')::uuid]::uuid[], ARRAY[3, 4]::bigint[], ARRAY['invoice.payment_recorded', 'invoice.paid']::text[], ARRAY['{"invoice_id": "00000000-0000-0000-0000-000000000001", "number": "INV-2030-0000001", "payment_id": "0190f7a8-0000-7000-8000-000000000009", "currency": "EUR", "amount": 199447, "reference": "pgbench-0190f7a8-0000-7000-8000-000000000009", "amount_paid": 199447, "amount_due": 0, "received_at": "2030-03-01T10:00:00.123456Z"}',
    '{"invoice_id": "00000000-0000-0000-0000-000000000001", "number": "INV-2030-0000001", "customer": {"name": "Load Test GmbH", "email": "billing@load.example"}, "currency": "EUR", "total": 199447, "amount_paid": 199447, "paid_at": "2030-03-01T10:00:00.123456Z"}']::text[], ARRAY[now(), now()]::timestamptz[])
    WITH ORDINALITY AS e (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, occurred_at, n)
ORDER BY e.n;
\endpipeline
END;
