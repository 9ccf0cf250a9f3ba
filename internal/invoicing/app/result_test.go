package app_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// A Result reads back the very view it was made from, so that a replay
// framed from it answers as the first answer did: every field, a due date,
// metadata, lines, payments, credit and a write-off included.
func TestResultReadsBackItsView(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	due := "2031-04-01"
	draft := f.create(t)
	if _, err := f.app.UpdateInvoice.Handle(ctx, app.UpdateInvoice{Tenant: f.tenant, InvoiceID: draft.ID(),
		DueDate: &due, Metadata: map[string]string{"order": "42"}}); err != nil {
		t.Fatal(err)
	}
	inv := f.issue(t, draft.ID())
	if _, err := f.app.PayInvoice.Handle(ctx, app.PayInvoice{Tenant: f.tenant, InvoiceID: inv.ID(), Amount: 300, Reference: "p-1"}); err != nil {
		t.Fatal(err)
	}
	issued, err := f.app.IssueCreditNote.Handle(ctx, app.IssueCreditNote{Tenant: f.tenant, InvoiceID: inv.ID(),
		Lines: []creditnote.LineInput{{Description: "Discount", Amount: 200}}, Reason: "order_change", Memo: "sorry"})
	if err != nil {
		t.Fatal(err)
	}
	marked, err := f.app.MarkUncollectible.Handle(ctx, app.MarkUncollectible{Tenant: f.tenant, InvoiceID: inv.ID()})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*invoice.Invoice{"draft": f.create(t), "worked": marked.Invoice} {
		r, err := app.InvoiceResult(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Invoice()
		if want := app.ViewOf(v); err != nil || !reflect.DeepEqual(got, want) || (name == "worked" && want.DueDate.IsZero()) {
			t.Errorf("%s: read back %+v, %v\nwant %+v", name, got, err, want)
		}
		if r.Resource != app.ResourceInvoice || r.ID != [16]byte(v.ID()) || r.Version != v.Version() {
			t.Errorf("%s: result names %s %s v%d", name, r.Resource, r.ID, r.Version)
		}
		if _, err := r.CreditNote(); err == nil {
			t.Errorf("%s: an invoice's result read as a credit note", name)
		}
	}
	r, err := app.CreditNoteResult(issued.CreditNote)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.CreditNote()
	if want := app.CreditNoteViewOf(issued.CreditNote); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("credit note: read back %+v, %v\nwant %+v", got, err, want)
	}
	if _, err := r.Invoice(); err == nil {
		t.Error("a credit note's result read as an invoice")
	}
	if _, err := (app.Result{Resource: app.ResourceInvoice, View: []byte(`{"currency":"XXX1"}`)}).Invoice(); err == nil {
		t.Error("a view in no currency read back")
	}
}

// An idempotent credit note stores the credit note as its result; a retry
// replays it, issuing nothing.
func TestIssueCreditNoteIdempotently(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.issue(t, f.create(t).ID())
	cmd := app.IssueCreditNote{Tenant: f.tenant, InvoiceID: inv.ID(), Amount: amount(100), Reason: "duplicate",
		Idempotency: &app.IdempotentRequest{Key: "cn-1", Fingerprint: []byte("cn")}}
	first, err := f.app.IssueCreditNote.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	view, err := first.Result.CreditNote()
	if err != nil || !reflect.DeepEqual(view, app.CreditNoteViewOf(first.CreditNote)) || first.Result.Version != 1 {
		t.Fatalf("result %+v (%v), want the credit note issued", first.Result, err)
	}
	_, err = f.app.IssueCreditNote.Handle(ctx, cmd)
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || string(replayed.Result.View) != string(first.Result.View) {
		t.Fatalf("retry: %v, want the first result", err)
	}
	if notes, _ := f.invoices.CreditNotes(); len(notes) != 1 {
		t.Fatalf("%d credit notes, want 1", len(notes))
	}
}
