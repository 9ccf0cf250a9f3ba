package invoice_test

import (
	"maps"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// The state machine's commands for write-off, overdue and edits.

func (m *machine) markUncollectible(t *rapid.T) {
	var want error
	if m.inv.Status() != invoice.StatusOpen {
		want = invoice.ErrInvalidTransition
	}
	m.run(t, want, types(want, invoice.TypeMarkedUncollectible), func(now time.Time) error { return m.inv.MarkUncollectible(now) })
}

// markOverdue asks the invoice whether it is overdue, hours or days on: it
// records the event once at most, and only for an unpaid invoice past its due date.
func (m *machine) markOverdue(t *rapid.T) {
	m.now = m.now.Add(time.Duration(rapid.IntRange(0, 48).Draw(t, "hours")) * time.Hour)
	st := m.inv.Status()
	due := (st == invoice.StatusOpen || st == invoice.StatusUncollectible) && !m.inv.DueDate().IsZero() &&
		m.inv.OverdueAt().IsZero() && !m.now.Add(time.Minute).Before(m.inv.DueDate().AddDate(0, 0, 1))
	var wantTypes []string
	if due {
		wantTypes = []string{invoice.TypeOverdue}
	}
	m.run(t, nil, wantTypes, func(now time.Time) error {
		if recorded := m.inv.MarkOverdue(now); recorded != due {
			t.Fatalf("MarkOverdue recorded %v, want %v", recorded, due)
		}
		return nil
	})
	if due {
		m.overdue++
	}
}

// edit changes metadata, and the customer on some; only a draft takes a
// new customer (the current one is no change, in any status).
func (m *machine) edit(t *rapid.T) {
	var c invoice.Changes
	if rapid.Bool().Draw(t, "customer") {
		c.Customer = &invoice.Customer{Name: rapid.SampledFrom([]string{"Ada Lovelace", "Grace Hopper"}).Draw(t, "name"), Email: "ada@example.com"}
	}
	key := rapid.SampledFrom([]string{"order", "crm", strings.Repeat("k", 41)}).Draw(t, "key")
	value := rapid.SampledFrom([]string{"", "1", "2"}).Draw(t, "value")
	c.Metadata = map[string]string{key: value}
	next := m.inv.Metadata()
	if next == nil {
		next = invoice.Metadata{}
	}
	if value == "" {
		delete(next, key)
	} else {
		next[key] = value
	}
	var want error
	switch {
	case c.Customer != nil && m.inv.Status() != invoice.StatusDraft && *c.Customer != m.inv.Customer():
		want = invoice.ErrInvalidTransition
	case len(key) > invoice.MaxMetadataKey:
		want = invoice.ErrInvalidMetadata
	}
	changed := (c.Customer != nil && *c.Customer != m.inv.Customer()) || !maps.Equal(next, m.inv.Metadata()) && !(len(next) == 0 && m.inv.Metadata() == nil)
	wantTypes := types(want, invoice.TypeUpdated)
	if !changed {
		wantTypes = nil
	}
	m.run(t, want, wantTypes, func(now time.Time) error { return m.inv.Edit(c, now) })
}

// checkWriteOff checks the invariants of writing off: at most one
// InvoiceOverdue, overdue only while collectible, a write-off time on every
// uncollectible invoice.
func (m *machine) checkWriteOff(t *rapid.T) {
	inv := m.inv
	if m.overdue > 1 || (m.overdue == 1) != !inv.OverdueAt().IsZero() {
		t.Fatalf("%d InvoiceOverdue events, overdue at %v", m.overdue, inv.OverdueAt())
	}
	if inv.Overdue() != (m.overdue == 1 && (inv.Status() == invoice.StatusOpen || inv.Status() == invoice.StatusUncollectible)) {
		t.Fatalf("overdue %v with status %s", inv.Overdue(), inv.Status())
	}
	if (inv.Status() == invoice.StatusUncollectible) && inv.MarkedUncollectibleAt().IsZero() {
		t.Fatalf("uncollectible without its write-off time")
	}
}
