package invoicingpg_test

import (
	"context"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

func TestInvoicesWriteEveryEventToTheOutboxInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inv := e.create(t, e.tenant)
	if _, _, err := e.app.AddLine.Handle(ctx, app.AddLine{Tenant: e.tenant, InvoiceID: inv.ID(),
		Line: invoice.LineInput{Description: "Extra", Quantity: 1, UnitAmount: 100}}); err != nil {
		t.Fatal(err)
	}
	changed, err := e.app.IssueInvoice.Handle(ctx, app.IssueInvoice{Tenant: e.tenant, InvoiceID: inv.ID()})
	if err != nil {
		t.Fatal(err)
	}
	issued := changed.Invoice
	if _, err := e.pay(e.tenant, inv.ID(), 300, "txn-1"); err != nil {
		t.Fatal(err)
	}
	paid, err := e.pay(e.tenant, inv.ID(), issued.Total().Amount()-300, "txn-2")
	if err != nil {
		t.Fatal(err)
	}

	rows := e.outbox(t, inv.ID())
	want := []string{invoice.TypeCreated, invoice.TypeLineAdded, invoice.TypeIssued,
		invoice.TypePaymentRecorded, invoice.TypePaymentRecorded, invoice.TypePaid}
	if len(rows) != len(want) {
		t.Fatalf("%d outbox rows, want %d: %+v", len(rows), len(want), rows)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if r.Type != want[i] || r.Version != int64(i+1) {
			t.Errorf("row %d: %s v%d, want %s v%d", i, r.Type, r.Version, want[i], i+1)
		}
		if r.Aggregate != inv.ID().String() || r.Tenant != e.tenant.String() {
			t.Errorf("row %d: aggregate %s tenant %s, want %s %s", i, r.Aggregate, r.Tenant, inv.ID(), e.tenant)
		}
		if r.Payload["invoice_id"] != inv.ID().String() {
			t.Errorf("row %d: payload invoice_id %v, want %s", i, r.Payload["invoice_id"], inv.ID())
		}
		if seen[r.EventID] {
			t.Errorf("row %d: event id %s repeats", i, r.EventID)
		}
		seen[r.EventID] = true
		if r.OccurredAt.IsZero() {
			t.Errorf("row %d: no occurred_at", i)
		}
	}
	if got := rows[2].Payload["number"]; got != issued.Number() {
		t.Errorf("issued payload number %v, want %s", got, issued.Number())
	}
	if got := rows[5].Payload["amount_paid"]; got != float64(paid.Total().Amount()) {
		t.Errorf("paid payload amount_paid %v, want %d", got, paid.Total().Amount())
	}
	if paid.Version() != int64(len(want)) {
		t.Errorf("invoice version %d, want %d (one per event)", paid.Version(), len(want))
	}
	// Each row has its data as written, and the same JSON as payload for
	// instances of the release before migration 12, which read only that.
	var differ int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND (data IS NULL OR data::jsonb <> payload)`,
		inv.ID().String()).Scan(&differ); err != nil || differ > 0 {
		t.Errorf("%d rows whose data is missing or not their payload (%v)", differ, err)
	}
}

func TestInvoicesAfterCommitRunsOncePerCommitWithEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant) // Add + Update
	if _, err := e.pay(e.tenant, inv.ID(), 100, "txn-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(e.tenant, inv.ID(), 100, "txn-1"); err != nil { // replay: no events
		t.Fatal(err)
	}
	if _, err := e.pay(e.tenant, inv.ID(), 1_000_000, "txn-2"); err == nil { // fails: no commit
		t.Fatal("overpayment succeeded")
	}
	if n := e.commits.Load(); n != 3 {
		t.Fatalf("after-commit hook ran %d times, want 3", n)
	}
}
