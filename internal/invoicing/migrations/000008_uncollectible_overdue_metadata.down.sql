-- Back to four statuses: a written-off invoice becomes open again (it was
-- open before); overdue times and metadata are dropped.
DROP INDEX invoices_overdue_candidates;
ALTER TABLE invoices DROP COLUMN metadata;
ALTER TABLE invoices DROP COLUMN overdue_at;
UPDATE invoices SET status = 'open' WHERE status = 'uncollectible';
ALTER TABLE invoices DROP COLUMN marked_uncollectible_at;
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('draft', 'open', 'paid', 'void'));
