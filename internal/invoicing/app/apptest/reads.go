package apptest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.InvoiceReader  = (*Invoices)(nil)
	_ app.LineList       = (*Invoices)(nil)
	_ app.InvoiceList    = (*Invoices)(nil)
	_ app.CreditNotes    = (*CreditNotes)(nil)
	_ app.CreditNoteList = (*CreditNotes)(nil)
)

// Get implements app.InvoiceReader.Get.
func (m *Invoices) Get(_ context.Context, tenant kernel.TenantID, id invoice.ID) (*invoice.Invoice, error) {
	m.mu.Lock()
	s, ok := m.invoices[id]
	m.mu.Unlock()
	if !ok || s.Tenant != tenant {
		return nil, invoice.ErrNotFound
	}
	return invoice.Rehydrate(s)
}

// List implements app.InvoiceList.List: views of the tenant's invoices
// matching f, newest first, each with at most app.ListedLines lines, read
// from the stored state and totals as the PostgreSQL list reads its rows,
// without rebuilding the invoices.
func (m *Invoices) List(_ context.Context, tenant kernel.TenantID, f app.ListFilter) (app.InvoicePage, error) {
	m.mu.Lock()
	var all []stored
	for _, id := range m.order {
		if s := m.invoices[id]; s.Tenant == tenant {
			all = append(all, stored{s, m.totals[id]})
		}
	}
	m.mu.Unlock()
	slices.SortStableFunc(all, func(a, b stored) int { // newest first, by (created_at, id)
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return slices.Compare(b.ID[:], a.ID[:])
	})
	if f.StartingAfter != nil {
		i := slices.IndexFunc(all, func(s stored) bool { return s.ID == *f.StartingAfter })
		if i < 0 {
			return app.InvoicePage{}, app.ErrInvalidCursor
		}
		all = all[i+1:]
	}
	var page app.InvoicePage
	for _, s := range all {
		if (f.Status != "" && s.Status != f.Status) || (f.CustomerEmail != "" && s.Customer.Email != f.CustomerEmail) {
			continue
		}
		if len(page.Invoices) == f.Limit {
			page.HasMore = true
			break
		}
		v, err := s.view()
		if err != nil {
			return app.InvoicePage{}, err
		}
		page.Invoices = append(page.Invoices, v)
	}
	return page, nil
}

// stored is an invoice as the repository keeps it: its state and the
// totals written with it.
type stored struct {
	invoice.Snapshot
	totals invoice.Totals
}

// view returns the invoice's view in a list: its first app.ListedLines
// lines, derived as Rehydrate derives them, and the stored totals. The
// payments and metadata are copies, so the caller may keep them. It fails
// with an error wrapping invoice.ErrCorruptInvoice for a line that breaks a
// rule, which no write stores.
func (s stored) view() (app.InvoiceView, error) {
	v := app.InvoiceView{
		ID: s.ID, Number: s.Number, Status: s.Status, Currency: s.Currency, Customer: s.Customer,
		DueDate: s.DueDate, LineCount: len(s.Lines), Totals: s.totals, Payments: slices.Clone(s.Payments),
		IssuedAt: s.IssuedAt, PaidAt: s.PaidAt, VoidedAt: s.VoidedAt, VoidReason: s.VoidReason,
		Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		MarkedUncollectibleAt: s.MarkedUncollectibleAt, OverdueAt: s.OverdueAt,
		Overdue: !s.OverdueAt.IsZero() && (s.Status == invoice.StatusOpen || s.Status == invoice.StatusUncollectible),
	}
	if len(s.Metadata) > 0 {
		v.Metadata = maps.Clone(s.Metadata)
	}
	for _, in := range s.Lines[:min(len(s.Lines), app.ListedLines)] {
		l, err := invoice.RehydrateLine(in, s.Currency)
		if err != nil {
			return app.InvoiceView{}, fmt.Errorf("invoice %s: %w", s.ID, err)
		}
		v.Lines = append(v.Lines, l)
	}
	return v, nil
}

// Lines implements app.LineList.Lines as the PostgreSQL reader does: from
// the stored lines, deriving the page's alone (invoice.RehydrateLine), not
// from the rebuilt invoice.
func (m *Invoices) Lines(_ context.Context, tenant kernel.TenantID, id invoice.ID, f app.LineFilter) (app.LinePage, error) {
	m.mu.Lock()
	s, ok := m.invoices[id]
	m.mu.Unlock()
	if !ok || s.Tenant != tenant {
		return app.LinePage{}, invoice.ErrNotFound
	}
	lines := s.Lines
	if f.StartingAfter != nil {
		i := slices.IndexFunc(lines, func(l invoice.LineInputWithID) bool { return l.ID == *f.StartingAfter })
		if i < 0 {
			return app.LinePage{}, app.ErrInvalidCursor
		}
		lines = lines[i+1:]
	}
	var page app.LinePage
	if len(lines) > f.Limit {
		lines, page.HasMore = lines[:f.Limit], true
	}
	for _, in := range lines {
		l, err := invoice.RehydrateLine(in, s.Currency)
		if err != nil {
			return app.LinePage{}, fmt.Errorf("invoice %s: %w", id, err)
		}
		page.Lines = append(page.Lines, l)
	}
	return page, nil
}

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
