package apptest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// credit returns an UpdateFunc that issues a credit note of amount against
// the invoice, as the use case does, and then fails with fail (nil: it
// succeeds).
func credit(amount int64, fail error) app.UpdateFunc {
	return answering(func(ctx context.Context, inv *invoice.Invoice, tx app.Tx) error {
		req, err := creditnote.NewRequest(inv.Currency(), nil, &amount, "duplicate", "")
		if err != nil {
			return err
		}
		n, err := tx.NextCreditNoteNumber(ctx, inv.Tenant(), Now.Year())
		if err != nil {
			return err
		}
		id, number := creditnote.NewID(), creditnote.FormatNumber(Now.Year(), n)
		alloc, err := inv.Credit(uuid.UUID(id), number, req.Amount(), Now)
		if err != nil {
			return err
		}
		cn, err := creditnote.Issue(id, inv, number, req, alloc, Now)
		if err != nil {
			return err
		}
		if err := tx.AddCreditNote(ctx, cn); err != nil {
			return err
		}
		return fail
	})
}

// testCreditNoteTransaction checks that a credit note commits with its
// invoice's change or not at all, its number with it.
func testCreditNoteTransaction(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	inv := openInvoice(t, s, tenant)

	if _, err := update(s, tenant, inv.ID(), credit(300, errInjected)); !errors.Is(err, errInjected) {
		t.Fatalf("a credit whose change fails: %v, want the injected failure", err)
	}
	if page, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{Limit: 10}); err != nil || len(page.CreditNotes) != 0 {
		t.Fatalf("after a rollback: %v, %d credit notes; want none", err, len(page.CreditNotes))
	}
	if got := get(t, s, tenant, inv.ID()); got.Version() != inv.Version() || !got.AmountCredited().IsZero() {
		t.Fatalf("after a rollback the invoice is at version %d with %d credited, want %d with none",
			got.Version(), got.AmountCredited().Amount(), inv.Version())
	}

	if _, err := update(s, tenant, inv.ID(), credit(300, nil)); err != nil {
		t.Fatalf("credit: %v", err)
	}
	page, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{InvoiceID: new(inv.ID()), Limit: 10})
	if err != nil || len(page.CreditNotes) != 1 || page.HasMore {
		t.Fatalf("List: %v, %d credit notes (more: %v); want one", err, len(page.CreditNotes), page.HasMore)
	}
	v := page.CreditNotes[0]
	// The rolled-back credit gave its number back.
	if v.Number != creditnote.FormatNumber(Now.Year(), 1) || v.InvoiceID != inv.ID() || v.InvoiceNumber != inv.Number() ||
		v.Amount.Amount() != 300 || v.Currency != inv.Currency() || v.Allocation.PrePayment.Amount() != 300 ||
		!v.Allocation.PostPayment.IsZero() || v.Reason != creditnote.ReasonDuplicate || !v.IssuedAt.Equal(Now) {
		t.Fatalf("listed credit note %+v", v)
	}
	cn, err := s.CreditNotes.Get(ctx, tenant, v.ID)
	if err != nil || !sameView(app.CreditNoteViewOf(cn), v) {
		t.Fatalf("Get = %+v, %v; want the listed %+v", cn, err, v)
	}
	if _, err := s.CreditNotes.Get(ctx, other, v.ID); !errors.Is(err, creditnote.ErrNotFound) {
		t.Fatalf("Get by another tenant: %v, want creditnote.ErrNotFound", err)
	}
	if got := get(t, s, tenant, inv.ID()); got.Version() != inv.Version()+1 || got.AmountCredited().Amount() != 300 {
		t.Fatalf("the invoice is at version %d with %d credited, want %d with 300", got.Version(), got.AmountCredited().Amount(), inv.Version()+1)
	}
	assertEventsFollow(t, s, inv.ID(), inv.Version(), map[string]int{invoice.TypeCredited: 1})
}

// sameView reports whether a and b show the same credit note.
func sameView(a, b app.CreditNoteView) bool {
	return a.ID == b.ID && a.Number == b.Number && a.InvoiceID == b.InvoiceID && a.InvoiceNumber == b.InvoiceNumber &&
		a.Currency == b.Currency && slices.Equal(a.Lines, b.Lines) && a.Amount == b.Amount && a.Allocation == b.Allocation &&
		a.Reason == b.Reason && a.Memo == b.Memo && a.IssuedAt.Equal(b.IssuedAt)
}

// testCreditNoteListPages checks the paging of credit notes, of a tenant
// and of one invoice.
func testCreditNoteListPages(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	a, b := openInvoice(t, s, tenant), openInvoice(t, s, tenant)
	for _, id := range []invoice.ID{a.ID(), a.ID(), b.ID(), a.ID()} {
		if _, err := update(s, tenant, id, credit(100, nil)); err != nil {
			t.Fatalf("credit: %v", err)
		}
	}
	all, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{Limit: app.MaxListLimit})
	if err != nil || len(all.CreditNotes) != 4 || all.HasMore {
		t.Fatalf("List: %v, %d credit notes; want 4", err, len(all.CreditNotes))
	}
	var want, onA []creditnote.ID
	var numbers []string
	for _, v := range all.CreditNotes {
		want = append(want, v.ID)
		numbers = append(numbers, v.Number)
		if v.InvoiceID == a.ID() {
			onA = append(onA, v.ID)
		}
	}
	slices.Sort(numbers)
	if !slices.IsSortedFunc(want, newestFirst) || len(onA) != 3 || !slices.Equal(numbers, []string{
		creditnote.FormatNumber(Now.Year(), 1), creditnote.FormatNumber(Now.Year(), 2),
		creditnote.FormatNumber(Now.Year(), 3), creditnote.FormatNumber(Now.Year(), 4),
	}) {
		t.Fatalf("credit notes %v numbered %v, %d of invoice A; want newest first, numbered 1 to 4, 3 of A", want, numbers, len(onA))
	}

	for _, tc := range []struct {
		invoice *invoice.ID
		want    []creditnote.ID
	}{{nil, want}, {new(a.ID()), onA}} {
		var got []creditnote.ID
		var after *creditnote.ID
		for range len(tc.want) {
			page, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{InvoiceID: tc.invoice, StartingAfter: after, Limit: 2})
			if err != nil {
				t.Fatalf("List after %v: %v", after, err)
			}
			for _, v := range page.CreditNotes {
				got = append(got, v.ID)
			}
			if !page.HasMore {
				break
			}
			after = &got[len(got)-1]
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("pages of 2 (invoice %v) gave %v, want %v", tc.invoice, got, tc.want)
		}
	}

	onB := slices.DeleteFunc(slices.Clone(want), func(id creditnote.ID) bool { return slices.Contains(onA, id) })
	if _, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{InvoiceID: new(a.ID()), StartingAfter: &onB[0], Limit: 2}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Fatalf("List of A after a credit note of B: %v, want ErrInvalidCursor", err)
	}
	if _, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{InvoiceID: new(invoice.NewID()), Limit: 2}); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("List of an unknown invoice: %v, want invoice.ErrNotFound", err)
	}
	if _, err := s.CreditNoteList.List(ctx, other, app.CreditNoteFilter{InvoiceID: new(a.ID()), Limit: 2}); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("List of another tenant's invoice: %v, want invoice.ErrNotFound", err)
	}
	if page, err := s.CreditNoteList.List(ctx, other, app.CreditNoteFilter{Limit: 10}); err != nil || len(page.CreditNotes) != 0 {
		t.Fatalf("List of another tenant: %v, %d credit notes; want none", err, len(page.CreditNotes))
	}
}
