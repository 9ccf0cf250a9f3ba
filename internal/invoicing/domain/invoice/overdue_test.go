package invoice_test

import (
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// dueOn returns an invoice with one consulting line due on the given date,
// issued at t0 unless draft, in state st of given.
func dueOn(t *testing.T, due time.Time, st string) *invoice.Invoice {
	t.Helper()
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, due, []invoice.LineInput{consulting}, t0)
	must(t, err)
	if st != "draft" {
		must(t, inv.Issue("INV-1", t0))
	}
	switch st {
	case "uncollectible":
		must(t, inv.MarkUncollectible(t0))
	case "paid":
		must(t, inv.Pay(money(t, 1200, eur), "p", t0))
	case "void":
		must(t, inv.Void("x", t0))
	}
	inv.PullEvents()
	return inv
}

func TestMarkOverdue(t *testing.T) {
	due := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	dayAfter := due.AddDate(0, 0, 1) // the first instant the invoice is overdue
	tests := []struct {
		name   string
		due    time.Time
		state  string
		now    time.Time
		wantAt time.Time // zero: nothing recorded
	}{
		{"open, due date passed", due, "open", dayAfter.Add(5 * time.Hour), dayAfter},
		{"open, on the first instant after the due date", due, "open", dayAfter, dayAfter},
		{"open, on the due date itself", due, "open", dayAfter.Add(-time.Nanosecond), time.Time{}},
		{"uncollectible, due date passed", due, "uncollectible", dayAfter, dayAfter},
		{"issued after its due date: overdue since issued", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), "open", t1, t0},
		{"no due date", time.Time{}, "open", dayAfter.AddDate(1, 0, 0), time.Time{}},
		{"draft", due, "draft", dayAfter, time.Time{}},
		{"paid", due, "paid", dayAfter, time.Time{}},
		{"void", due, "void", dayAfter, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := dueOn(t, tt.due, tt.state)
			before := observe(inv)
			recorded := inv.MarkOverdue(tt.now)
			if tt.wantAt.IsZero() {
				if recorded || inv.Overdue() {
					t.Fatalf("recorded %v, overdue %v; want neither", recorded, inv.Overdue())
				}
				assertUnchanged(t, before, inv)
				return
			}
			evs := inv.PullEvents()
			if !recorded || len(evs) != 1 || !inv.Overdue() || !inv.OverdueAt().Equal(tt.wantAt) {
				t.Fatalf("recorded %v, events %v, overdue %v at %v; want one event, overdue at %v",
					recorded, typesOf(evs), inv.Overdue(), inv.OverdueAt(), tt.wantAt)
			}
			e, ok := evs[0].(invoice.InvoiceOverdue)
			if !ok || !e.OverdueAt.Equal(tt.wantAt) || e.AmountDue != 1200 || e.Meta().Version != before.Snapshot.Version+1 || !e.Meta().OccurredAt.Equal(tt.now) {
				t.Errorf("event %+v", evs[0])
			}
			// Asking again, however much later, records nothing.
			after := observe(inv)
			if inv.MarkOverdue(tt.now.AddDate(0, 1, 0)) {
				t.Error("recorded overdue twice")
			}
			assertUnchanged(t, after, inv)
		})
	}
}

func TestOverdueEndsWithPaymentButKeepsItsTime(t *testing.T) {
	due := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	inv := dueOn(t, due, "open")
	inv.MarkOverdue(t1)
	at := inv.OverdueAt()
	must(t, inv.Pay(money(t, 1200, eur), "p", t1))
	if inv.Overdue() || !inv.OverdueAt().Equal(at) {
		t.Errorf("paid invoice: overdue %v at %v, want false at %v", inv.Overdue(), inv.OverdueAt(), at)
	}
}
