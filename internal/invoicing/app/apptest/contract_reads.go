package apptest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// removeLine removes the line id from a draft.
func removeLine(id invoice.LineID) app.UpdateFunc {
	return answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
		return inv.RemoveLine(id, Now)
	})
}

// testLineListPages checks that paging through an invoice's lines serves
// each once, in the invoice's order, as InvoiceReader.Get reads them, and
// that a cursor must be one of the invoice's lines still.
func testLineListPages(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	inv := add(t, s, tenant)
	for range 4 {
		if _, err := update(s, tenant, inv.ID(), addLine); err != nil {
			t.Fatal(err)
		}
	}
	removed := get(t, s, tenant, inv.ID()).Lines()[2]
	if _, err := update(s, tenant, inv.ID(), removeLine(removed.ID)); err != nil {
		t.Fatal(err)
	}
	want := get(t, s, tenant, inv.ID()).Lines()
	if len(want) != 5 {
		t.Fatalf("the invoice has %d lines, want 5", len(want))
	}

	var got []invoice.Line
	var more []bool
	var after *invoice.LineID
	for range len(want) {
		page, err := s.LineList.Lines(ctx, tenant, inv.ID(), app.LineFilter{StartingAfter: after, Limit: 2})
		if err != nil {
			t.Fatalf("Lines after %v: %v", after, err)
		}
		got = append(got, page.Lines...)
		more = append(more, page.HasMore)
		if !page.HasMore {
			break
		}
		after = &got[len(got)-1].ID
	}
	if !slices.Equal(got, want) || !slices.Equal(more, []bool{true, true, false}) {
		t.Fatalf("pages of 2 gave %v (more: %v), want %v in 3 pages", got, more, want)
	}
	if page, err := s.LineList.Lines(ctx, tenant, inv.ID(), app.LineFilter{Limit: app.MaxListLimit}); err != nil ||
		!slices.Equal(page.Lines, want) || page.HasMore {
		t.Fatalf("Lines in one page: %v, %v (more: %v); want %v", err, page.Lines, page.HasMore, want)
	}
	last := want[len(want)-1].ID
	if page, err := s.LineList.Lines(ctx, tenant, inv.ID(), app.LineFilter{StartingAfter: &last, Limit: 2}); err != nil ||
		len(page.Lines) != 0 || page.HasMore {
		t.Fatalf("Lines after the last: %v, %d lines (more: %v); want none", err, len(page.Lines), page.HasMore)
	}

	// A cursor is one of this invoice's lines: not a removed one, nor
	// another invoice's.
	elsewhere := add(t, s, tenant).Lines()[0].ID
	for _, cursor := range []invoice.LineID{invoice.LineID(uuid.New()), removed.ID, elsewhere} {
		if _, err := s.LineList.Lines(ctx, tenant, inv.ID(), app.LineFilter{StartingAfter: &cursor, Limit: 2}); !errors.Is(err, app.ErrInvalidCursor) {
			t.Fatalf("Lines after %s: %v, want ErrInvalidCursor", cursor, err)
		}
	}
	for _, id := range []invoice.ID{invoice.NewID(), add(t, s, other).ID()} {
		if _, err := s.LineList.Lines(ctx, tenant, id, app.LineFilter{Limit: 2}); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("Lines of %s: %v, want ErrNotFound", id, err)
		}
	}
}

// testHistoryPages checks that paging through an invoice's history serves
// each of its events once, in version order, and only its own: not its
// credit notes', not another tenant's.
func testHistoryPages(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	inv := openInvoice(t, s, tenant)
	if _, err := update(s, tenant, inv.ID(), credit(100, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := update(s, tenant, inv.ID(), pay(100, "wire")); err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{invoice.TypeCreated, invoice.TypeIssued, invoice.TypeCredited, invoice.TypePaymentRecorded}

	page, err := s.EventHistory.History(ctx, tenant, inv.ID(), app.HistoryFilter{})
	if err != nil || page.HasMore || len(page.Events) != len(wantTypes) {
		t.Fatalf("History: %v, %d events (more: %v); want %d", err, len(page.Events), page.HasMore, len(wantTypes))
	}
	var types []string
	for i, rec := range page.Events {
		if rec.Tenant != tenant || rec.AggregateID != uuid.UUID(inv.ID()) || rec.Version != int64(i+1) ||
			!strings.HasPrefix(rec.Type, "invoice.") || len(rec.Payload) == 0 {
			t.Fatalf("event %d of the history: %+v", i, rec)
		}
		types = append(types, rec.Type)
	}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("history types %v, want %v", types, wantTypes)
	}

	// A page always takes its first event, whatever the byte budget, and
	// says whether more follow.
	var versions []int64
	var more []bool
	after := int64(0)
	for range len(wantTypes) {
		page, err := s.EventHistory.History(ctx, tenant, inv.ID(), app.HistoryFilter{After: after, MaxBytes: 1})
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("History after %d within 1 byte: %v, %d events; want 1", after, err, len(page.Events))
		}
		after = page.Events[0].Version
		versions, more = append(versions, after), append(more, page.HasMore)
		if !page.HasMore {
			break
		}
	}
	if !slices.Equal(versions, []int64{1, 2, 3, 4}) || !slices.Equal(more, []bool{true, true, true, false}) {
		t.Fatalf("pages of one event gave versions %v (more: %v), want 1 to 4, the last alone", versions, more)
	}
	if page, err := s.EventHistory.History(ctx, tenant, inv.ID(), app.HistoryFilter{After: after}); err != nil ||
		len(page.Events) != 0 || page.HasMore {
		t.Fatalf("History after the last event: %v, %d events (more: %v); want none", err, len(page.Events), page.HasMore)
	}

	// Neither a credit note nor another tenant's invoice has an invoice's
	// history.
	notes, err := s.CreditNoteList.List(ctx, tenant, app.CreditNoteFilter{Limit: 10})
	if err != nil || len(notes.CreditNotes) != 1 {
		t.Fatalf("credit notes: %v, %d; want 1", err, len(notes.CreditNotes))
	}
	for _, id := range []invoice.ID{invoice.NewID(), invoice.ID(notes.CreditNotes[0].ID), add(t, s, other).ID()} {
		if _, err := s.EventHistory.History(ctx, tenant, id, app.HistoryFilter{}); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("History of %s: %v, want ErrNotFound", id, err)
		}
	}
}

// testInvoiceListViews checks that a listed invoice shows what Get reads of
// it, its lines cut to app.ListedLines: the list's read model holds the
// aggregate's state and derived amounts, however it is built.
func testInvoiceListViews(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant := s.NewTenant(t)
	full := add(t, s, tenant)
	for range app.ListedLines {
		if _, err := update(s, tenant, full.ID(), addLine); err != nil {
			t.Fatal(err)
		}
	}
	edit := answering(func(_ context.Context, inv *invoice.Invoice, _ app.Tx) error {
		return inv.Edit(invoice.Changes{Metadata: map[string]string{"order": "A-1"}}, Now)
	})
	for _, fn := range []app.UpdateFunc{edit, issue, pay(100, "wire"), credit(100, nil)} {
		if _, err := update(s, tenant, full.ID(), fn); err != nil {
			t.Fatal(err)
		}
	}
	draft := add(t, s, tenant)

	page, err := s.InvoiceList.List(ctx, tenant, app.ListFilter{Limit: 10})
	if err != nil || len(page.Invoices) != 2 {
		t.Fatalf("List: %v, %d invoices; want 2", err, len(page.Invoices))
	}
	for _, v := range page.Invoices {
		want := app.ViewOf(get(t, s, tenant, v.ID))
		want.Lines = want.Lines[:min(len(want.Lines), app.ListedLines)]
		// Printed, a nil slice or map reads as an empty one: a store may
		// build either.
		if got, want := fmt.Sprintf("%+v", v), fmt.Sprintf("%+v", want); got != want {
			t.Fatalf("listed invoice\n%s\nwant, as Get reads it,\n%s", got, want)
		}
	}
	ids := []invoice.ID{page.Invoices[0].ID, page.Invoices[1].ID}
	if !slices.Contains(ids, full.ID()) || !slices.Contains(ids, draft.ID()) {
		t.Fatalf("listed %v, want %s and %s", ids, full.ID(), draft.ID())
	}
	for _, v := range page.Invoices {
		if v.ID == full.ID() && (v.LineCount != app.ListedLines+2 || len(v.Lines) != app.ListedLines || len(v.Metadata) != 1) {
			t.Fatalf("listed %s with %d of %d lines and metadata %v; want %d of %d, one key",
				v.ID, len(v.Lines), v.LineCount, v.Metadata, app.ListedLines, app.ListedLines+2)
		}
	}
}
