package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

func amount(n int64) *int64 { return &n }

func TestIssueCreditNoteNumbersAndSavesWithTheInvoice(t *testing.T) {
	f := newFixture(t)
	inv := f.issue(t, f.create(t).ID()) // total 1200
	ctx := context.Background()
	got, err := f.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: f.tenant, InvoiceID: inv.ID(),
		Lines: []creditnote.LineInput{{Description: "Discount", Amount: 200}}, Reason: "order_change"})
	if err != nil {
		t.Fatal(err)
	}
	if got.CreditNote.Number() != "CN-2031-000001" || got.Invoice.AmountDue().Amount() != 1000 ||
		got.Invoice.AmountCredited().Amount() != 200 || got.Invoice.Status() != invoice.StatusOpen {
		t.Fatalf("credit note %s, invoice due %d credited %d %s", got.CreditNote.Number(), got.Invoice.AmountDue().Amount(),
			got.Invoice.AmountCredited().Amount(), got.Invoice.Status())
	}
	got, err = f.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: f.tenant, InvoiceID: inv.ID(),
		Amount: amount(1000), Reason: "duplicate"})
	if err != nil || got.CreditNote.Number() != "CN-2031-000002" || got.Invoice.Status() != invoice.StatusPaid {
		t.Fatalf("second credit note: %v, %+v", err, got)
	}
	notes, events := f.invoices.CreditNotes()
	if len(notes) != 2 || len(events) != 2 || events[1].Type() != creditnote.TypeIssued {
		t.Fatalf("stored %d credit notes, %d events", len(notes), len(events))
	}
	want := []string{invoice.TypeCreated, invoice.TypeIssued, invoice.TypeCredited, invoice.TypeCredited, invoice.TypePaid}
	if got := f.eventTypes(); !slices.Equal(got, want) {
		t.Fatalf("invoice events %v, want %v", got, want)
	}

	// Refused: beyond the total, a bad request, a version If-Match does not
	// name. Nothing is stored and no number is used up.
	for name, cmd := range map[string]app.IssueCreditNote{
		"beyond the total": {Amount: amount(1), Reason: "duplicate"},
		"bad reason":       {Amount: amount(1), Reason: "whim"},
		"stale If-Match":   {Amount: amount(1), Reason: "duplicate", IfMatch: app.IfVersion(1)},
	} {
		cmd.Tenant, cmd.InvoiceID = f.tenant, inv.ID()
		if _, err := f.app.IssueCreditNote.Handle(ctx, cmd); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	draft := f.create(t)
	if _, err := f.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: f.tenant, InvoiceID: draft.ID(),
		Amount: amount(1), Reason: "duplicate"}); !errors.Is(err, invoice.ErrInvalidTransition) {
		t.Errorf("draft: %v", err)
	}
	other := f.issue(t, f.create(t).ID())
	got, err = f.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: f.tenant, InvoiceID: other.ID(), Amount: amount(1), Reason: "duplicate"})
	if err != nil || got.CreditNote.Number() != "CN-2031-000003" {
		t.Fatalf("after refusals: %v, %+v", err, got.CreditNote)
	}
}

// Concurrent credit notes on one invoice: whatever wins, the credited sum
// never passes the total and equals the stored credit notes' sum.
func TestIssueCreditNoteConcurrentNeverPassesTheTotal(t *testing.T) {
	f := newFixture(t)
	inv := f.issue(t, f.create(t).ID()) // total 1200
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.app.IssueCreditNote.Handle(context.Background(), app.IssueCreditNote{Tenant: f.tenant, InvoiceID: inv.ID(),
				Amount: amount(100), Reason: "duplicate"})
		}()
	}
	wg.Wait()
	notes, _ := f.invoices.CreditNotes()
	sum := int64(0)
	for _, cn := range notes {
		sum += cn.Amount().Amount()
	}
	stored, err := f.app.GetInvoice.Handle(context.Background(), app.GetInvoice{Tenant: f.tenant, InvoiceID: inv.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if sum != stored.AmountCredited().Amount() || sum > stored.Total().Amount() {
		t.Fatalf("credit notes sum to %d, the invoice says %d credited of %d", sum, stored.AmountCredited().Amount(), stored.Total().Amount())
	}
}
