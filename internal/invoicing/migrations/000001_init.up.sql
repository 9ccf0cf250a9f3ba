-- Tenants and their API keys. Keys are stored only as SHA-256 hashes.
CREATE TABLE tenants (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_hash   bytea       PRIMARY KEY,
    tenant_id  uuid        NOT NULL REFERENCES tenants (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- Invoices. Totals are stored denormalized (they are derived by the domain on
-- every write) so lists and reports need not read lines; the CHECKs are a last
-- line of defence behind the aggregate's own invariants.
CREATE TABLE invoices (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL REFERENCES tenants (id),
    number         text,
    status         text        NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void')),
    currency       char(3)     NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    due_date       date,
    subtotal       bigint      NOT NULL,
    tax            bigint      NOT NULL,
    total          bigint      NOT NULL,
    amount_paid    bigint      NOT NULL,
    issued_at      timestamptz,
    paid_at        timestamptz,
    voided_at      timestamptz,
    void_reason    text,
    version        bigint      NOT NULL CHECK (version >= 1),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT invoices_number_unique UNIQUE (tenant_id, number),
    CONSTRAINT invoices_amount_paid_range CHECK (amount_paid >= 0 AND amount_paid <= total),
    CONSTRAINT invoices_number_iff_issued CHECK ((status = 'draft') = (number IS NULL))
);
CREATE INDEX invoices_tenant_created ON invoices (tenant_id, created_at DESC, id DESC);
CREATE INDEX invoices_tenant_status_created ON invoices (tenant_id, status, created_at DESC, id DESC);

-- Lines keep their insertion order through an identity column.
CREATE TABLE invoice_lines (
    id           uuid    PRIMARY KEY,
    invoice_id   uuid    NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position     bigint  GENERATED ALWAYS AS IDENTITY,
    description  text    NOT NULL,
    quantity     bigint  NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    unit_amount  bigint  NOT NULL CHECK (unit_amount >= 0),
    tax_rate_bps integer NOT NULL CHECK (tax_rate_bps BETWEEN 0 AND 10000)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);

-- A payment reference (the provider's transaction id) is unique per invoice.
CREATE TABLE payments (
    id          uuid        PRIMARY KEY,
    invoice_id  uuid        NOT NULL REFERENCES invoices (id),
    amount      bigint      NOT NULL CHECK (amount > 0),
    reference   text        NOT NULL,
    received_at timestamptz NOT NULL,
    CONSTRAINT payments_reference_unique UNIQUE (invoice_id, reference)
);

-- Gapless invoice numbers: one counter row per tenant and year, incremented
-- under its row lock inside the issuing transaction. A sequence would leave
-- gaps when a transaction rolls back; this row's increment rolls back with it.
CREATE TABLE invoice_number_counters (
    tenant_id   uuid   NOT NULL REFERENCES tenants (id),
    year        integer NOT NULL,
    last_number bigint NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

-- The transactional outbox: events are inserted in the same transaction as the
-- state change that raised them; the relay publishes them and sets
-- published_at. sequence is global and increasing (not gapless: identity values
-- of rolled-back transactions are lost). txid records the inserting
-- transaction so readers can tell which rows may still have earlier-numbered
-- siblings in flight.
CREATE TABLE outbox (
    sequence          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          uuid        NOT NULL UNIQUE,
    tenant_id         uuid        NOT NULL,
    aggregate_id      uuid        NOT NULL,
    aggregate_version bigint      NOT NULL,
    event_type        text        NOT NULL,
    payload           jsonb       NOT NULL,
    occurred_at       timestamptz NOT NULL,
    txid              xid8        NOT NULL DEFAULT pg_current_xact_id(),
    published_at      timestamptz,
    attempts          integer     NOT NULL DEFAULT 0,
    last_error        text,
    CONSTRAINT outbox_aggregate_version_unique UNIQUE (aggregate_id, aggregate_version)
);
-- The relay's work queue: small, because published rows leave it.
CREATE INDEX outbox_unpublished ON outbox (sequence) WHERE published_at IS NULL;
CREATE INDEX outbox_tenant_sequence ON outbox (tenant_id, sequence);
