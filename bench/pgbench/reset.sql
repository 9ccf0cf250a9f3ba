-- Returns the seeded invoices to open and unpaid between pgbench runs, so
-- every run pays fresh invoices from the same starting state.
\set ON_ERROR_STOP on
UPDATE invoices SET status = 'open', amount_paid = 0, paid_at = NULL, version = 2
WHERE tenant_id = '00000000-0000-7000-8000-0000000000b1' AND version <> 2;
DELETE FROM payments USING invoices
WHERE payments.invoice_id = invoices.id AND invoices.tenant_id = '00000000-0000-7000-8000-0000000000b1';
DELETE FROM outbox WHERE tenant_id = '00000000-0000-7000-8000-0000000000b1';
TRUNCATE bench_bare;
VACUUM ANALYZE invoices, invoice_lines, payments, outbox, bench_bare;
