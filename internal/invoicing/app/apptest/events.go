package apptest

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.EventHistory = (*Events)(nil)
	_ app.EventFeed    = (*Events)(nil)
)

// recorded is an event of either aggregate, as the outbox stores it.
type recorded[ID ~[16]byte] interface {
	Type() string
	Meta() kernel.EventMeta
	AggregateID() ID
}

// appendRecords returns records with events appended as the PostgreSQL
// outbox stores them: the sequences after *seq (which it advances), the
// JSON encoding as payload and the request's trace. The caller holds the
// repository's lock. It panics if an event cannot be encoded, which no
// domain event allows.
func appendRecords[ID ~[16]byte, E recorded[ID]](records []outbox.EventRecord, seq *int64, events []E, trace outbox.Trace) []outbox.EventRecord {
	for _, e := range events {
		*seq++
		payload, err := outbox.MarshalData(e)
		if err != nil {
			panic("apptest: encode event " + e.Type() + ": " + err.Error())
		}
		m := e.Meta()
		records = append(records, outbox.EventRecord{
			Sequence: *seq, ID: m.ID, Tenant: m.Tenant, AggregateID: uuid.UUID(e.AggregateID()),
			Version: m.Version, Type: e.Type(), Payload: payload, OccurredAt: m.OccurredAt.UTC(), Trace: trace,
		})
	}
	return records
}

// Events is an app.EventHistory and app.EventFeed over an Invoices' committed events. Commits are
// atomic in memory, so sequence order is commit order and the feed needs
// none of PostgreSQL's care for transactions still running.
type Events struct {
	m *Invoices
}

// NewEvents returns the events committed to m.
func NewEvents(m *Invoices) *Events { return &Events{m: m} }

// records returns the tenant's committed events in sequence order.
func (e *Events) records(tenant kernel.TenantID) []outbox.EventRecord {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	var out []outbox.EventRecord
	for _, r := range e.m.outbox {
		if r.Tenant == tenant {
			out = append(out, r)
		}
	}
	return out
}

// Feed implements app.EventFeed.Feed as the PostgreSQL reader does: the
// tenant's events after f.After, up to f.Limit (clamped to
// 1..app.MaxFeedLimit) of type f.Type, fewer if their payloads would pass
// f.MaxBytes; NextAfter is the last event served, or if the page ended for
// want of events, the tenant's last event of any type, or f.After. It fails
// with app.ErrInvalidCursor if f.After is neither 0 nor one of the tenant's
// sequences.
func (e *Events) Feed(_ context.Context, tenant kernel.TenantID, f app.FeedFilter) (app.FeedPage, error) {
	f.Limit = min(max(f.Limit, 1), app.MaxFeedLimit)
	all := e.records(tenant)
	start := 0
	if f.After != 0 {
		i := slices.IndexFunc(all, func(r outbox.EventRecord) bool { return r.Sequence == f.After })
		if i < 0 {
			return app.FeedPage{}, app.ErrInvalidCursor
		}
		start = i + 1
	}
	page := app.FeedPage{NextAfter: f.After}
	b := app.PageBudget{Max: f.MaxBytes}
	for _, r := range all[start:] {
		if f.Type != "" && r.Type != f.Type {
			continue
		}
		if len(page.Events) == f.Limit || !b.Take(len(r.Payload)) {
			break
		}
		page.Events = append(page.Events, r)
	}
	switch {
	case b.Full || len(page.Events) == f.Limit:
		page.NextAfter = page.Events[len(page.Events)-1].Sequence
	case start < len(all):
		page.NextAfter = all[len(all)-1].Sequence
	}
	return page, nil
}

// History implements app.EventHistory.History as the PostgreSQL reader does: the
// invoice's events after version f.After in version order, up to
// app.MaxFeedLimit, fewer if their payloads would pass f.MaxBytes. It fails
// with invoice.ErrNotFound if the tenant has no such invoice.
func (e *Events) History(ctx context.Context, tenant kernel.TenantID, id invoice.ID, f app.HistoryFilter) (app.HistoryPage, error) {
	if _, err := e.m.Get(ctx, tenant, id); err != nil {
		return app.HistoryPage{}, err
	}
	page := app.HistoryPage{Events: []outbox.EventRecord{}}
	b := app.PageBudget{Max: f.MaxBytes}
	for _, r := range e.records(tenant) {
		if r.AggregateID != uuid.UUID(id) || r.Version <= f.After || !strings.HasPrefix(r.Type, "invoice.") {
			continue
		}
		if len(page.Events) == app.MaxFeedLimit || !b.Take(len(r.Payload)) {
			page.HasMore = true
			break
		}
		page.Events = append(page.Events, r)
	}
	return page, nil
}

// Counts is how many rows of each kind the repository holds, as the
// PostgreSQL tables would: what tests that check a request wrote nothing
// compare before and after.
type Counts struct {
	Invoices, Lines, Payments int
	Events                    int // of both aggregates
	IdempotencyKeys           int // stored responses
	CreditNotes               int
}

// Counts returns the rows committed so far.
func (m *Invoices) Counts() Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Counts{Invoices: len(m.invoices), Events: len(m.outbox), IdempotencyKeys: len(m.keys), CreditNotes: len(m.creditNotes)}
	for _, s := range m.invoices {
		c.Lines += len(s.Lines)
		c.Payments += len(s.Payments)
	}
	return c
}

// SetSequence makes n the last sequence taken, so the next event gets
// n+1, as setval on the PostgreSQL outbox's sequence does.
func (m *Invoices) SetSequence(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq = n
}

// InvoiceIDs returns the ids of every tenant's invoices, in creation order.
func (m *Invoices) InvoiceIDs() []invoice.ID {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.order)
}

// Outbox returns every committed event of every tenant, in sequence order.
func (m *Invoices) Outbox() []outbox.EventRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.outbox)
}

// KeysStored returns how many tenants have a response stored under key.
func (m *Invoices) KeysStored(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.keys {
		if k.key == key {
			n++
		}
	}
	return n
}
