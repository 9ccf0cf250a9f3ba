package apptest

import (
	"cmp"
	"context"
	"slices"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.InvoiceList    = (*Invoices)(nil)
	_ app.CreditNotes    = (*CreditNotes)(nil)
	_ app.CreditNoteList = (*CreditNotes)(nil)
)

// CreditNotes reads the credit notes that the updates of an Invoices
// committed: app.CreditNotes and app.CreditNoteList in memory.
type CreditNotes struct {
	m *Invoices
}

// NewCreditNotes returns the credit note reader of m.
func NewCreditNotes(m *Invoices) *CreditNotes { return &CreditNotes{m: m} }

// Get implements app.CreditNotes.Get: the credit note, or
// creditnote.ErrNotFound.
func (c *CreditNotes) Get(_ context.Context, tenant kernel.TenantID, id creditnote.ID) (*creditnote.CreditNote, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for _, cn := range c.m.creditNotes {
		if cn.ID() == id && cn.Tenant() == tenant {
			return cn, nil
		}
	}
	return nil, creditnote.ErrNotFound
}

// List implements app.CreditNoteList.List with the PostgreSQL repository's
// paging: newest first by (issue time, id), a limit outside
// 1..app.MaxListLimit clamped. It fails with invoice.ErrNotFound if
// f.InvoiceID names none of the tenant's invoices and app.ErrInvalidCursor
// if f.StartingAfter is not one of the credit notes listed.
func (c *CreditNotes) List(_ context.Context, tenant kernel.TenantID, f app.CreditNoteFilter) (app.CreditNotePage, error) {
	limit := min(max(f.Limit, 1), app.MaxListLimit)
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if f.InvoiceID != nil {
		if s, ok := c.m.invoices[*f.InvoiceID]; !ok || s.Tenant != tenant {
			return app.CreditNotePage{}, invoice.ErrNotFound
		}
	}
	var notes []app.CreditNoteView
	for _, cn := range c.m.creditNotes {
		if cn.Tenant() == tenant && (f.InvoiceID == nil || cn.InvoiceID() == *f.InvoiceID) {
			notes = append(notes, app.CreditNoteViewOf(cn))
		}
	}
	slices.SortFunc(notes, func(a, b app.CreditNoteView) int {
		return cmp.Or(b.IssuedAt.Compare(a.IssuedAt), slices.Compare(b.ID[:], a.ID[:]))
	})
	if f.StartingAfter != nil {
		i := slices.IndexFunc(notes, func(v app.CreditNoteView) bool { return v.ID == *f.StartingAfter })
		if i < 0 {
			return app.CreditNotePage{}, app.ErrInvalidCursor
		}
		notes = notes[i+1:]
	}
	if len(notes) > limit {
		return app.CreditNotePage{CreditNotes: notes[:limit], HasMore: true}, nil
	}
	return app.CreditNotePage{CreditNotes: notes}, nil
}
