package invoicingpg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var _ app.Tx = updateTx{}

// nextNumberSQL increments the tenant's counter for the year, creating it at
// 1. The row lock it takes is held until the surrounding transaction ends,
// which serializes a tenant's issues for that long: that is the price of
// gapless numbers, since a rolled-back transaction returns its number by
// undoing the increment. Two first issues of a year race on the primary key;
// the loser waits for the winner and then increments its row.
const nextNumberSQL = `INSERT INTO invoice_number_counters (tenant_id, year, last_number) VALUES ($1, $2::integer, 1)
ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = invoice_number_counters.last_number + 1
RETURNING last_number`

// queueNumbersSQL waits, under the lock timeout, for the transaction-level
// advisory lock of the tenant's number sequence $2 (app.NumberSequence),
// which serializes the changes that take its numbers before they write
// anything (see beginAndLoad). The two-key form keeps these locks apart
// from the single-key ones of idempotency keys and jobs; two tenants whose
// ids hash alike merely share a queue.
const queueNumbersSQL = `SELECT pg_advisory_xact_lock(hashtext($1::uuid::text), $2::integer)`

// updateTx is the app.Tx of an update attempt: what its app.UpdateFunc may
// do in the transaction besides changing the invoice.
type updateTx struct{ tx pgx.Tx }

// NextInvoiceNumber returns the tenant's next number (1, 2, ...) for year,
// taken in the update's transaction, so that it is given back if that
// transaction rolls back. It returns database errors wrapped.
func (t updateTx) NextInvoiceNumber(ctx context.Context, tenant kernel.TenantID, year int) (int64, error) {
	var n int64
	if err := t.tx.QueryRow(ctx, nextNumberSQL, [16]byte(tenant), year).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: next invoice number: %w", err)
	}
	return n, nil
}
