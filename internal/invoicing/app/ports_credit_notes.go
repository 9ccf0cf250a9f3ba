package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CreditNotes reads one credit note; credit notes are written by
// Tx.AddCreditNote, in the transaction of their invoice's change, and listed
// through CreditNoteList. It is scoped by tenant: another tenant's credit
// note is reported like a missing one.
type CreditNotes interface {
	// Get returns the credit note, or creditnote.ErrNotFound.
	Get(ctx context.Context, tenant kernel.TenantID, id creditnote.ID) (*creditnote.CreditNote, error)
}

// CreditNoteList reads pages of credit notes as their read model,
// CreditNoteView, without rebuilding the aggregates. It is scoped by tenant.
type CreditNoteList interface {
	// List returns a page of the tenant's credit notes matching f, newest
	// first (by issue time, then id). It fails with invoice.ErrNotFound if
	// f.InvoiceID names none of the tenant's invoices, and with
	// ErrInvalidCursor if f.StartingAfter is set and is not one of the
	// credit notes listed.
	List(ctx context.Context, tenant kernel.TenantID, f CreditNoteFilter) (CreditNotePage, error)
}

// CreditNoteFilter selects a page of credit notes for CreditNoteList.List.
type CreditNoteFilter struct {
	InvoiceID     *invoice.ID    // nil: every invoice's
	StartingAfter *creditnote.ID // nil: from the newest; else the credit notes older than this one
	Limit         int            // 1..MaxListLimit
}

// CreditNotePage is a page of credit notes, newest first.
type CreditNotePage struct {
	CreditNotes []CreditNoteView
	HasMore     bool // older credit notes match the filter
}
