package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// The overdue job on the in-memory repository: with the clock fixed a day
// after the invoices' due date, each records one event however often the
// job runs, alone or racing; an invoice paid or without due date records
// none.
func TestRecordOverdueRecordsOneEventPerInvoice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	yesterday := now.AddDate(0, 0, -1).Format(time.DateOnly)
	due := func(date *string) invoice.ID {
		id := f.create(t).ID()
		if _, err := f.app.UpdateInvoice.Handle(ctx, app.UpdateInvoice{Tenant: f.tenant, InvoiceID: id, DueDate: date}); err != nil {
			t.Fatal(err)
		}
		f.issue(t, id)
		return id
	}
	want := map[invoice.ID]bool{}
	for range 7 {
		want[due(&yesterday)] = true
	}
	due(nil)
	paid := due(&yesterday)
	if _, err := f.app.PayInvoice.Handle(ctx, app.PayInvoice{Tenant: f.tenant, InvoiceID: paid, Amount: 1200, Reference: "p"}); err != nil {
		t.Fatal(err)
	}

	job := app.NewRecordOverdueHandler(f.invoices, f.invoices, &fixedClock{now: now})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		recorded int
	)
	for range 4 { // racing runs: each invoice's optimistic concurrency keeps one event
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := job.Handle(ctx, app.RecordOverdue{BatchSize: 3})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			recorded += res.Recorded
			mu.Unlock()
		}()
	}
	wg.Wait()
	if recorded != len(want) {
		t.Errorf("racing runs recorded %d, want %d", recorded, len(want))
	}
	if res, err := job.Handle(ctx, app.RecordOverdue{BatchSize: 2}); err != nil || res.Recorded != 0 || res.Checked != 0 {
		t.Errorf("a later run: %+v, %v; want nothing to check", res, err)
	}
	got := map[invoice.ID]int{}
	for _, e := range f.invoices.Events() {
		if e.Type() == invoice.TypeOverdue {
			got[e.AggregateID()]++
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("invoice %s: %d overdue events, want 1", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d invoices recorded overdue, want %d", len(got), len(want))
	}
}
