package apptest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// newestFirst orders ids as the lists do items created at the same time:
// by id, descending.
func newestFirst[ID ~[16]byte](a, b ID) int { return slices.Compare(b[:], a[:]) }

// testInvoiceListPages checks that paging through a tenant's invoices
// serves each once, newest first, and that the filters and cursor hold.
func testInvoiceListPages(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	var want []invoice.ID
	for range 5 {
		want = append(want, add(t, s, tenant).ID())
	}
	foreign := add(t, s, other).ID()
	if _, err := update(s, tenant, want[1], issue); err != nil {
		t.Fatal(err)
	}
	open := want[1]
	slices.SortFunc(want, newestFirst)

	var got []invoice.ID
	var more []bool
	var after *invoice.ID
	for range len(want) {
		page, err := s.InvoiceList.List(ctx, tenant, app.ListFilter{StartingAfter: after, Limit: 2})
		if err != nil {
			t.Fatalf("List after %v: %v", after, err)
		}
		for _, v := range page.Invoices {
			if v.LineCount != 2 || len(v.Lines) != 2 || v.Totals.Total.Amount() != 1200 {
				t.Fatalf("listed invoice %s: %d of %d lines, total %d; want 2 of 2, 1200", v.ID, len(v.Lines), v.LineCount, v.Totals.Total.Amount())
			}
			got = append(got, v.ID)
		}
		more = append(more, page.HasMore)
		if !page.HasMore {
			break
		}
		after = &got[len(got)-1]
	}
	if !slices.Equal(got, want) || !slices.Equal(more, []bool{true, true, false}) {
		t.Fatalf("pages of 2 gave %v (more: %v), want %v in 3 pages", got, more, want)
	}

	for _, tc := range []struct {
		f    app.ListFilter
		want []invoice.ID
	}{
		{app.ListFilter{Status: invoice.StatusOpen, Limit: 10}, []invoice.ID{open}},
		{app.ListFilter{CustomerEmail: "ada@example.com", Limit: 10}, want},
		{app.ListFilter{CustomerEmail: "nobody@example.com", Limit: 10}, nil},
	} {
		page, err := s.InvoiceList.List(ctx, tenant, tc.f)
		var ids []invoice.ID
		for _, v := range page.Invoices {
			ids = append(ids, v.ID)
		}
		if err != nil || !slices.Equal(ids, tc.want) || page.HasMore {
			t.Fatalf("List(%+v) = %v, %v; want %v", tc.f, ids, err, tc.want)
		}
	}
	for _, cursor := range []invoice.ID{invoice.NewID(), foreign} {
		if _, err := s.InvoiceList.List(ctx, tenant, app.ListFilter{StartingAfter: &cursor, Limit: 2}); !errors.Is(err, app.ErrInvalidCursor) {
			t.Fatalf("List after %s: %v, want ErrInvalidCursor", cursor, err)
		}
	}
}

// readFeed reads the tenant's feed from the beginning, a page of one at a
// time, until it holds n events. A feed may serve a commit a moment late
// (never out of order), so it waits a while for them.
func readFeed(t *testing.T, s Subject, tenant kernel.TenantID, n int) []outbox.EventRecord {
	t.Helper()
	var seen []outbox.EventRecord
	after := int64(0)
	for deadline := time.Now().Add(10 * time.Second); len(seen) < n; {
		page, err := s.EventFeed.Feed(context.Background(), tenant, app.FeedFilter{After: after, Limit: 1})
		if err != nil {
			t.Fatalf("Feed after %d: %v", after, err)
		}
		if len(page.Events) > 1 {
			t.Fatalf("Feed with limit 1 served %d events", len(page.Events))
		}
		seen = append(seen, page.Events...)
		after = page.NextAfter
		if len(page.Events) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the feed served %d events, want %d", len(seen), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return seen
}

// testFeedPages checks that the feed serves each of a tenant's events once,
// in commit order, of both aggregates, and its cursor, type filter and byte
// budget.
func testFeedPages(t *testing.T, s Subject) {
	ctx := context.Background()
	tenant, other := s.NewTenant(t), s.NewTenant(t)
	inv := openInvoice(t, s, tenant)
	if _, err := update(s, tenant, inv.ID(), credit(100, nil)); err != nil {
		t.Fatal(err)
	}
	add(t, s, other)

	seen := readFeed(t, s, tenant, 4)
	var types []string
	for i, rec := range seen {
		if rec.Tenant != tenant || (i > 0 && rec.Sequence <= seen[i-1].Sequence) || len(rec.Payload) == 0 {
			t.Fatalf("event %d of the feed: %+v", i, rec)
		}
		want := uuid.UUID(inv.ID())
		if rec.Type == creditnote.TypeIssued {
			want = rec.AggregateID // the credit note's own id
			if want == uuid.UUID(inv.ID()) {
				t.Fatalf("credit_note.issued belongs to the invoice %s, want its credit note", want)
			}
		}
		if rec.AggregateID != want {
			t.Fatalf("%s belongs to %s, want %s", rec.Type, rec.AggregateID, want)
		}
		types = append(types, rec.Type)
	}
	wantTypes := []string{invoice.TypeCreated, invoice.TypeIssued, invoice.TypeCredited, creditnote.TypeIssued}
	if slices.Sort(types); !slices.Equal(types, slices.Sorted(slices.Values(wantTypes))) {
		t.Fatalf("feed types %v, want %v", types, wantTypes)
	}
	last := seen[len(seen)-1].Sequence
	if page, err := s.EventFeed.Feed(ctx, tenant, app.FeedFilter{After: last, Limit: 10}); err != nil || len(page.Events) != 0 || page.NextAfter != last {
		t.Fatalf("Feed after the last event: %v, %d events, next after %d; want none, %d", err, len(page.Events), page.NextAfter, last)
	}

	// A type filter moves the cursor past the events of other types.
	page, err := s.EventFeed.Feed(ctx, tenant, app.FeedFilter{Type: invoice.TypeCreated, Limit: 10})
	if err != nil || len(page.Events) != 1 || page.Events[0].Type != invoice.TypeCreated || page.NextAfter != last {
		t.Fatalf("Feed of invoice.created: %v, %d events, next after %d; want 1, %d", err, len(page.Events), page.NextAfter, last)
	}
	// A page always takes its first event, whatever the byte budget.
	page, err = s.EventFeed.Feed(ctx, tenant, app.FeedFilter{Limit: 10, MaxBytes: 1})
	if err != nil || len(page.Events) != 1 || page.NextAfter != page.Events[0].Sequence {
		t.Fatalf("Feed within 1 byte: %v, %d events; want the first alone", err, len(page.Events))
	}
	// Another tenant's feed has none of these, and none of its sequences
	// is a cursor here.
	foreign := readFeed(t, s, other, 1)
	if foreign[0].Tenant != other || foreign[0].Type != invoice.TypeCreated {
		t.Fatalf("the other tenant's feed: %+v", foreign[0])
	}
	if _, err := s.EventFeed.Feed(ctx, tenant, app.FeedFilter{After: foreign[0].Sequence, Limit: 10}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Fatalf("Feed after another tenant's event: %v, want ErrInvalidCursor", err)
	}
}
