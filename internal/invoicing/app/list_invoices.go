package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Bounds of a page of invoices.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
	// ListedLines is how many of its lines, at most, an invoice in a list
	// carries; the rest are read with ListLines.
	ListedLines = 10
)

// Errors of listing queries.
var (
	ErrInvalidLimit  = &failure.Error{Kind: failure.Invalid, Code: "invalid_limit", Field: "limit", Message: "limit must be between 1 and 100"}
	ErrInvalidCursor = &failure.Error{Kind: failure.Invalid, Code: "invalid_cursor", Message: "the cursor does not name a position of this list"}
)

// ListInvoices reads a page of a tenant's invoices, newest first. Paging with
// StartingAfter is stable while invoices are being created: a new invoice
// sorts before the cursor, so no page skips or repeats an older one.
type ListInvoices struct {
	Tenant        kernel.TenantID
	Status        invoice.Status // empty: any
	CustomerEmail string         // empty: any
	StartingAfter *invoice.ID    // the last invoice of the previous page; nil for the first page
	Limit         int            // 0: DefaultListLimit
}

// ListInvoicesHandler handles ListInvoices.
type ListInvoicesHandler struct {
	invoices InvoiceList
}

// Handle returns up to Limit invoices and whether more follow. It fails with
// ErrInvalidLimit for a limit outside 1..MaxListLimit and with
// ErrInvalidCursor (field starting_after) if StartingAfter is not one of the
// tenant's invoices.
func (h ListInvoicesHandler) Handle(ctx context.Context, q ListInvoices) (InvoicePage, error) {
	limit, err := listLimit(q.Limit)
	if err != nil {
		return InvoicePage{}, err
	}
	page, err := h.invoices.List(ctx, q.Tenant, ListFilter{
		Status: q.Status, CustomerEmail: q.CustomerEmail, StartingAfter: q.StartingAfter, Limit: limit,
	})
	if errors.Is(err, ErrInvalidCursor) {
		return InvoicePage{}, ErrInvalidCursor.At("starting_after")
	}
	return page, err
}

// listLimit returns the page size of a list for limit: DefaultListLimit for
// 0, else limit, or ErrInvalidLimit outside 1..MaxListLimit.
func listLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultListLimit, nil
	case limit < 1 || limit > MaxListLimit:
		return 0, ErrInvalidLimit
	}
	return limit, nil
}
