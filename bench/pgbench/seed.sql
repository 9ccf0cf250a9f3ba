-- Seeds a migrated bench database for the pgbench scripts (psql -v invoices=N).
-- Invoice n (1..N) has id lpad(to_hex(n), 32, '0')::uuid, is open at version
-- 2 (created, issued) with the same three lines the load tool creates, and
-- no payment: pay.sql pays each one once. bench_bare serves bare.sql.
\set ON_ERROR_STOP on
INSERT INTO tenants (id, name) VALUES ('00000000-0000-7000-8000-0000000000b1', 'pgbench');

INSERT INTO invoices (id, tenant_id, number, status, currency, customer_name, customer_email, due_date,
    subtotal, tax, total, amount_paid, issued_at, version, created_at, updated_at)
SELECT lpad(to_hex(n), 32, '0')::uuid, '00000000-0000-7000-8000-0000000000b1',
       'INV-2030-' || lpad(n::text, 7, '0'), 'open', 'EUR', 'Load Test GmbH', 'billing@load.example', '2030-12-31',
       169997, 29450, 199447, 0, now(), 2, now(), now()
FROM generate_series(1, :invoices) AS n;

INSERT INTO invoice_lines (id, invoice_id, description, quantity, unit_amount, tax_rate_bps)
SELECT gen_random_uuid(), lpad(to_hex(n), 32, '0')::uuid, l.description, l.quantity, l.unit_amount, l.tax_rate_bps
FROM generate_series(1, :invoices) AS n,
     (VALUES (1, 'Consulting (days)', 10, 12000, 1900),
             (2, 'Travel expenses', 1, 35000, 1900),
             (3, 'Licence, one seat', 3, 4999, 0)) AS l (pos, description, quantity, unit_amount, tax_rate_bps)
ORDER BY n, l.pos;

CREATE TABLE bench_bare (
    id bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now()
);
