package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

var _ app.InvoiceNumbers = (*InvoiceNumbers)(nil)

// errNoTx means InvoiceNumbers.Next was called outside an Update function.
var errNoTx = errors.New("postgres: InvoiceNumbers.Next needs the ctx of an Invoices.Update function (no transaction in ctx)")

// nextNumberSQL increments the tenant's counter for the year, creating it at
// 1. The row lock it takes is held until the surrounding transaction ends,
// which serializes a tenant's issues for that long: that is the price of
// gapless numbers, since a rolled-back transaction returns its number by
// undoing the increment. Two first issues of a year race on the primary key;
// the loser waits for the winner and then increments its row.
const nextNumberSQL = `INSERT INTO invoice_number_counters (tenant_id, year, last_number) VALUES ($1, $2::integer, 1)
ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = invoice_number_counters.last_number + 1
RETURNING last_number`

// InvoiceNumbers hands out gapless invoice numbers inside the transaction
// of Invoices.Update.
type InvoiceNumbers struct{}

// NewInvoiceNumbers returns an InvoiceNumbers. It needs no pool: it uses the
// transaction carried by the ctx it is called with.
func NewInvoiceNumbers() *InvoiceNumbers { return &InvoiceNumbers{} }

// Next returns the tenant's next number (1, 2, ...) for year, taken in the
// transaction carried by ctx, so that it is given back if that transaction
// rolls back. It fails if ctx carries no transaction (it was not called with
// the ctx of an Invoices.Update function) and returns database errors wrapped.
func (InvoiceNumbers) Next(ctx context.Context, tenant invoice.TenantID, year int) (int64, error) {
	tx, ok := txFrom(ctx)
	if !ok {
		return 0, errNoTx
	}
	var n int64
	if err := tx.QueryRow(ctx, nextNumberSQL, [16]byte(tenant), year).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: next invoice number: %w", err)
	}
	return n, nil
}
