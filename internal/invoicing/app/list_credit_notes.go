package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// ListCreditNotes reads a page of a tenant's credit notes (of one invoice,
// if InvoiceID is set), newest first, as ListInvoices pages invoices.
type ListCreditNotes struct {
	Tenant        kernel.TenantID
	InvoiceID     *invoice.ID    // nil: every invoice's
	StartingAfter *creditnote.ID // the last credit note of the previous page; nil for the first page
	Limit         int            // 0: DefaultListLimit
}

// ListCreditNotesHandler handles ListCreditNotes.
type ListCreditNotesHandler struct {
	notes CreditNoteList
}

// Handle returns up to Limit credit notes and whether more follow. It fails
// with ErrInvalidLimit, with ErrInvalidCursor (field starting_after) if
// StartingAfter is not one of the credit notes listed, with
// invoice.ErrNotFound if InvoiceID names none of the tenant's invoices, and
// with the repository's errors.
func (h ListCreditNotesHandler) Handle(ctx context.Context, q ListCreditNotes) (CreditNotePage, error) {
	limit, err := listLimit(q.Limit)
	if err != nil {
		return CreditNotePage{}, err
	}
	page, err := h.notes.List(ctx, q.Tenant, CreditNoteFilter{InvoiceID: q.InvoiceID, StartingAfter: q.StartingAfter, Limit: limit})
	if errors.Is(err, ErrInvalidCursor) {
		return CreditNotePage{}, ErrInvalidCursor.At("starting_after")
	}
	return page, err
}
