-- Uncollectible invoices, overdue from the passage of time, metadata.

-- A written-off invoice (status uncollectible) keeps when it was written off,
-- also once it is paid or voided afterwards.
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
    CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible'));
ALTER TABLE invoices ADD COLUMN marked_uncollectible_at timestamptz;

-- When the invoice became overdue, set once by the overdue job's change (the
-- aggregate records invoice.overdue at most once per invoice).
ALTER TABLE invoices ADD COLUMN overdue_at timestamptz;

-- The caller's own string -> string data (at most 50 keys; checked by the
-- domain). A JSON object, '{}' for none.
ALTER TABLE invoices ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT invoices_metadata_object CHECK (jsonb_typeof(metadata) = 'object');

-- The overdue job's work list, across tenants: the collectible invoices with a
-- due date not yet recorded overdue. Partial, so it holds only unpaid invoices
-- and shrinks as they are paid, voided or recorded overdue; the job walks it
-- by id in batches.
CREATE INDEX invoices_overdue_candidates ON invoices (id)
    WHERE status IN ('open', 'uncollectible') AND overdue_at IS NULL AND due_date IS NOT NULL;
