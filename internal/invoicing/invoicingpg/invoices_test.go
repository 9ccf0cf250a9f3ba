package invoicingpg_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestAddThenGetReturnsTheSameInvoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	draft := e.create(t, e.tenant)
	assertSameInvoice(t, e.get(t, draft.ID()), draft)

	issued, err := e.app.IssueInvoice.Handle(context.Background(), app.IssueInvoice{Tenant: e.tenant, InvoiceID: draft.ID()})
	open := issued.Invoice
	if err != nil {
		t.Fatal(err)
	}
	partly, err := e.pay(e.tenant, open.ID(), 500, "txn-1")
	if err != nil {
		t.Fatal(err)
	}
	assertSameInvoice(t, e.get(t, draft.ID()), partly)
	paid, err := e.pay(e.tenant, open.ID(), 700, "txn-2")
	if err != nil {
		t.Fatal(err)
	}
	got := e.get(t, draft.ID())
	assertSameInvoice(t, got, paid)
	if got.Status() != invoice.StatusPaid || len(got.Payments()) != 2 || got.Payments()[1].Reference != "txn-2" {
		t.Fatalf("got %+v, want paid with payments txn-1, txn-2", viewOf(got))
	}
}

func TestAddStoresDenormalizedTotals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	if _, err := e.pay(e.tenant, inv.ID(), 200, "txn-1"); err != nil {
		t.Fatal(err)
	}
	var sub, tax, total, paid int64
	err := e.pool.QueryRow(context.Background(), "SELECT subtotal, tax, total, amount_paid FROM invoices WHERE id = $1",
		inv.ID().String()).Scan(&sub, &tax, &total, &paid)
	if err != nil {
		t.Fatal(err)
	}
	if sub != 1000 || tax != 200 || total != 1200 || paid != 200 {
		t.Fatalf("stored totals %d+%d=%d paid %d, want 1000+200=1200 paid 200", sub, tax, total, paid)
	}
}

func TestUpdateKeepsLineOrderAcrossAddsAndRemoves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	ctx := context.Background()
	var added []invoice.LineID
	for _, d := range []string{"c", "d", "e"} {
		_, id, err := e.app.AddLine.Handle(ctx, app.AddLine{Tenant: e.tenant, InvoiceID: inv.ID(),
			Line: invoice.LineInput{Description: d, Quantity: 1, UnitAmount: 10}})
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, id)
	}
	first := inv.Lines()[0].ID
	for _, id := range []invoice.LineID{first, added[1]} {
		if _, err := e.app.RemoveLine.Handle(ctx, app.RemoveLine{Tenant: e.tenant, InvoiceID: inv.ID(), LineID: id}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, l := range e.get(t, inv.ID()).Lines() {
		got = append(got, l.Description)
	}
	if want := []string{"Support", "c", "e"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if n := e.count(t, "SELECT count(*) FROM invoice_lines WHERE invoice_id = $1", inv.ID().String()); n != 3 {
		t.Fatalf("%d line rows, want 3", n)
	}
}

func TestUpdateReturnsTheInvoiceAsCommitted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.create(t, e.tenant)
	// The system clock has nanoseconds; PostgreSQL keeps microseconds.
	nano := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	changed, err := e.repo.Update(context.Background(), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		_, err := inv.AddLine(invoice.LineInput{Description: "x", Quantity: 1, UnitAmount: 1}, nano)
		return app.Result{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	updated := changed.Invoice
	assertSameInvoice(t, updated, e.get(t, inv.ID()))
	if updated.Version() != 2 {
		t.Fatalf("version %d, want 2", updated.Version())
	}
}

func TestGetAndUpdateAreScopedByTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.newTenant(t, "globex")
	inv := e.create(t, e.tenant)
	ctx := context.Background()

	if _, err := e.repo.Get(ctx, other, inv.ID()); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Get by another tenant: %v, want ErrNotFound", err)
	}
	if _, err := e.repo.Get(ctx, e.tenant, invoice.NewID()); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("Get of a missing invoice: %v, want ErrNotFound", err)
	}
	called := false
	fn := func(context.Context, *invoice.Invoice, app.Tx) (app.Result, error) {
		called = true
		return app.Result{}, nil
	}
	for _, tc := range []struct {
		tenant kernel.TenantID
		id     invoice.ID
	}{{other, inv.ID()}, {e.tenant, invoice.NewID()}} {
		if _, err := e.repo.Update(ctx, tc.tenant, tc.id, app.ChangeOptions{}, fn); !errors.Is(err, invoice.ErrNotFound) {
			t.Fatalf("Update: %v, want ErrNotFound", err)
		}
	}
	if called {
		t.Fatal("Update ran its function for an invoice it did not find")
	}
	if got := e.pool.Stat().AcquiredConns(); got != 0 {
		t.Fatalf("%d connections still acquired", got)
	}
}

func TestListFiltersByStatusNewestFirstWithinTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.newTenant(t, "globex")
	ctx := context.Background()
	var all []*invoice.Invoice // oldest first
	for i := range 5 {
		inv := e.create(t, e.tenant)
		if i%2 == 1 {
			inv = e.createOpenFrom(t, inv)
		}
		all = append(all, inv)
	}
	foreign := e.create(t, other)
	list := func(f app.ListFilter) app.InvoicePage {
		t.Helper()
		page, err := e.repo.List(ctx, e.tenant, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		return page
	}

	got := list(app.ListFilter{Limit: 10})
	if len(got.Invoices) != 5 || got.HasMore {
		t.Fatalf("listed %d invoices (has_more %t), want 5 and no more", len(got.Invoices), got.HasMore)
	}
	for i, inv := range got.Invoices {
		assertListed(t, inv, all[4-i])
	}

	open := list(app.ListFilter{Status: invoice.StatusOpen, Limit: 10}).Invoices
	if len(open) != 2 || open[0].ID != all[3].ID() || open[1].ID != all[1].ID() {
		t.Fatalf("open invoices %v, want [%s %s]", ids(open), all[3].ID(), all[1].ID())
	}

	page := list(app.ListFilter{Status: invoice.StatusDraft, Limit: 2})
	if !page.HasMore || len(page.Invoices) != 2 || page.Invoices[0].ID != all[4].ID() || page.Invoices[1].ID != all[2].ID() {
		t.Fatalf("first 2 drafts %v (has_more %t), want [%s %s] and more", ids(page.Invoices), page.HasMore, all[4].ID(), all[2].ID())
	}
	cursor := page.Invoices[1].ID
	page = list(app.ListFilter{Status: invoice.StatusDraft, Limit: 2, StartingAfter: &cursor})
	if page.HasMore || len(page.Invoices) != 1 || page.Invoices[0].ID != all[0].ID() {
		t.Fatalf("drafts after %s: %v (has_more %t), want [%s] and no more", cursor, ids(page.Invoices), page.HasMore, all[0].ID())
	}

	if got := list(app.ListFilter{CustomerEmail: "nobody@example.com", Limit: 10}); len(got.Invoices) != 0 {
		t.Fatalf("customer_email of nobody: %v", ids(got.Invoices))
	}
	if got := list(app.ListFilter{CustomerEmail: "ada@example.com", Limit: 10}); len(got.Invoices) != 5 {
		t.Fatalf("customer_email ada: %d invoices, want 5", len(got.Invoices))
	}

	// Another tenant's invoice is no cursor, even where the page would be empty.
	foreignID := foreign.ID()
	if _, err := e.repo.List(ctx, e.tenant, app.ListFilter{Limit: 10, StartingAfter: &foreignID}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Fatalf("cursor of another tenant: %v, want ErrInvalidCursor", err)
	}
	last := all[0].ID()
	if got := list(app.ListFilter{Limit: 10, StartingAfter: &last}); len(got.Invoices) != 0 || got.HasMore {
		t.Fatalf("after the oldest: %v, want an empty last page", ids(got.Invoices))
	}

	none, err := e.repo.List(ctx, e.newTenant(t, "initech"), app.ListFilter{Limit: 10})
	if err != nil || len(none.Invoices) != 0 {
		t.Fatalf("List of a tenant without invoices: %v, %v; want none", ids(none.Invoices), err)
	}
}

// createOpenFrom issues the draft inv.
func (e *env) createOpenFrom(t *testing.T, inv *invoice.Invoice) *invoice.Invoice {
	t.Helper()
	changed, err := e.app.IssueInvoice.Handle(context.Background(), app.IssueInvoice{Tenant: inv.Tenant(), InvoiceID: inv.ID()})
	inv = changed.Invoice
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func ids(invs []app.InvoiceView) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, inv.ID.String())
	}
	return out
}
