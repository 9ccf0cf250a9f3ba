DROP TABLE IF EXISTS credit_note_number_counters;
DROP TABLE IF EXISTS credit_notes;
ALTER TABLE invoices
    DROP CONSTRAINT IF EXISTS invoices_credit_range,
    DROP COLUMN IF EXISTS post_payment_credit,
    DROP COLUMN IF EXISTS pre_payment_credit;
