package apptest

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.InvoiceList    = (*Invoices)(nil)
	_ app.EventFeed      = (*Invoices)(nil)
	_ app.CreditNotes    = (*CreditNotes)(nil)
	_ app.CreditNoteList = (*CreditNotes)(nil)
)

// event is what the feed keeps of a domain event of either aggregate.
type event interface {
	Type() string
	Meta() kernel.EventMeta
}

// appendFeed adds the events of one aggregate to the feed, as the
// PostgreSQL repository writes them to its outbox. The caller holds m.mu.
func appendFeed[E event](m *Invoices, aggregate uuid.UUID, trace outbox.Trace, events []E) {
	for _, e := range events {
		payload, err := json.Marshal(e)
		if err != nil {
			panic("apptest: encode event: " + err.Error()) // the events are plain structs
		}
		meta := e.Meta()
		m.feed = append(m.feed, outbox.EventRecord{
			Sequence: int64(len(m.feed) + 1), ID: meta.ID, Tenant: meta.Tenant, AggregateID: aggregate,
			Version: meta.Version, Type: e.Type(), Payload: payload, OccurredAt: meta.OccurredAt, Trace: trace,
		})
	}
}

// Feed implements app.EventFeed.Feed on the events committed so far, in
// commit order (which here is sequence order), with the PostgreSQL
// repository's paging: a limit outside 1..app.MaxFeedLimit is clamped,
// NextAfter is the last event served or, on a page that did not fill, the
// last event of any type after f.After. It fails with app.ErrInvalidCursor
// if f.After is neither 0 nor the sequence of one of the tenant's events.
func (m *Invoices) Feed(_ context.Context, tenant kernel.TenantID, f app.FeedFilter) (app.FeedPage, error) {
	limit := min(max(f.Limit, 1), app.MaxFeedLimit)
	m.mu.Lock()
	defer m.mu.Unlock()
	page := app.FeedPage{NextAfter: f.After}
	cursorOK, full, size := f.After == 0, false, 0
	for _, rec := range m.feed {
		if rec.Tenant != tenant || rec.Sequence <= f.After {
			cursorOK = cursorOK || (rec.Tenant == tenant && rec.Sequence == f.After)
			continue
		}
		if full {
			break
		}
		page.NextAfter = rec.Sequence
		if f.Type != "" && rec.Type != f.Type {
			continue
		}
		if len(page.Events) > 0 && f.MaxBytes > 0 && size+len(rec.Payload) > f.MaxBytes {
			page.NextAfter = page.Events[len(page.Events)-1].Sequence
			break
		}
		rec.Payload = slices.Clone(rec.Payload)
		page.Events = append(page.Events, rec)
		size += len(rec.Payload)
		full = len(page.Events) == limit
	}
	if !cursorOK {
		return app.FeedPage{}, app.ErrInvalidCursor
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
