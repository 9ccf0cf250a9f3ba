-- Credit notes.

-- The invoice owns its credited total (docs/architecture.md, "Credit notes"):
-- the credit that lowered what was due, and the credit beyond it, owed back
-- to the customer (refund due). The CHECK is a last line of defence behind
-- the aggregate: never credited beyond the total, nor beyond what was paid
-- and due.
ALTER TABLE invoices
    ADD COLUMN pre_payment_credit  bigint NOT NULL DEFAULT 0,
    ADD COLUMN post_payment_credit bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT invoices_credit_range CHECK (
        pre_payment_credit >= 0 AND post_payment_credit >= 0
        AND amount_paid::numeric + pre_payment_credit <= total
        AND post_payment_credit <= amount_paid);

-- Credit notes never change once issued. Lines (none when issued for an
-- amount alone) are kept in the row as parallel arrays: a credit note is
-- read whole, and has at most 100 lines.
CREATE TABLE credit_notes (
    id                  uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL REFERENCES tenants (id),
    invoice_id          uuid        NOT NULL REFERENCES invoices (id),
    invoice_number      text        NOT NULL,
    number              text        NOT NULL,
    currency            char(3)     NOT NULL,
    line_descriptions   text[]      NOT NULL,
    line_amounts        bigint[]    NOT NULL,
    amount              bigint      NOT NULL CHECK (amount > 0),
    pre_payment_amount  bigint      NOT NULL CHECK (pre_payment_amount >= 0),
    post_payment_amount bigint      NOT NULL CHECK (post_payment_amount >= 0),
    reason              text        NOT NULL
        CHECK (reason IN ('duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory')),
    memo                text,
    issued_at           timestamptz NOT NULL,
    version             bigint      NOT NULL CHECK (version = 1),
    CONSTRAINT credit_notes_number_unique UNIQUE (tenant_id, number),
    CONSTRAINT credit_notes_allocation CHECK (pre_payment_amount::numeric + post_payment_amount = amount)
);
-- GET /v1/credit_notes and GET /v1/invoices/{id}/credit_notes, newest first.
CREATE INDEX credit_notes_tenant_issued ON credit_notes (tenant_id, issued_at DESC, id DESC);
CREATE INDEX credit_notes_invoice_issued ON credit_notes (invoice_id, issued_at DESC, id DESC);

-- Gapless credit note numbers (CN-2026-000001), as invoice_number_counters:
-- one row per tenant and year, incremented under its row lock inside the
-- transaction that issues the credit note.
CREATE TABLE credit_note_number_counters (
    tenant_id   uuid    NOT NULL REFERENCES tenants (id),
    year        integer NOT NULL,
    last_number bigint  NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
