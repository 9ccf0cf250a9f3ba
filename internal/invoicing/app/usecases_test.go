package app_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app/apptest"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The use cases on the in-memory repository, which keeps the same contract
// as the PostgreSQL one (apptest.RunInvoicesContract).

var now = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

// fixture is the app over in-memory ports, with one tenant.
type fixture struct {
	app      *app.App
	invoices *apptest.Invoices
	tenant   kernel.TenantID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{invoices: apptest.NewInvoices()}
	keys := apptest.NewAPIKeys()
	f.app = app.New(f.invoices, keys, historyEvents{}, &fixedClock{now: now})
	_, tenant, err := f.app.CreateAPIKey.Handle(context.Background(), app.CreateAPIKey{TenantName: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = tenant
	return f
}

// historyEvents answers History with one event for any invoice.
type historyEvents struct{}

func (historyEvents) Feed(context.Context, kernel.TenantID, app.FeedFilter) (app.FeedPage, error) {
	return app.FeedPage{}, nil
}

func (historyEvents) History(_ context.Context, _ kernel.TenantID, id invoice.ID, f app.HistoryFilter) (app.HistoryPage, error) {
	return app.HistoryPage{Events: []outbox.EventRecord{{AggregateID: uuid.UUID(id), Version: f.After + 1}}}, nil
}

func (f *fixture) create(t *testing.T) *invoice.Invoice {
	t.Helper()
	changed, err := f.app.CreateInvoice.Handle(context.Background(), app.CreateInvoice{
		Tenant: f.tenant, Customer: invoice.Customer{Name: "Ada", Email: "ada@example.com"}, Currency: "EUR",
		Lines: []invoice.LineInput{{Description: "Consulting", Quantity: 2, UnitAmount: 500, TaxRateBPS: 2000}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return changed.Invoice
}

func (f *fixture) issue(t *testing.T, id invoice.ID) *invoice.Invoice {
	t.Helper()
	changed, err := f.app.IssueInvoice.Handle(context.Background(), app.IssueInvoice{Tenant: f.tenant, InvoiceID: id})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return changed.Invoice
}

// eventTypes returns the types of the events committed so far.
func (f *fixture) eventTypes() []string {
	var out []string
	for _, e := range f.invoices.Events() {
		out = append(out, e.Type())
	}
	return out
}

func wantTypes(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestCreateInvoice(t *testing.T) {
	f := newFixture(t)
	inv := f.create(t)
	if inv.Status() != invoice.StatusDraft || inv.Total().Amount() != 1200 || !inv.CreatedAt().Equal(now) {
		t.Fatalf("created %s total %d at %v", inv.Status(), inv.Total().Amount(), inv.CreatedAt())
	}
	wantTypes(t, f.eventTypes(), invoice.TypeCreated)
	_, err := f.app.CreateInvoice.Handle(context.Background(), app.CreateInvoice{Tenant: f.tenant, Currency: "XXX1"})
	if !errors.Is(err, kernel.ErrInvalidCurrency) {
		t.Fatalf("bad currency: %v, want ErrInvalidCurrency", err)
	}
	wantTypes(t, f.eventTypes(), invoice.TypeCreated)
}

func TestCreateInvoiceIdempotently(t *testing.T) {
	f := newFixture(t)
	key, err := app.NewIdempotentRequest("create-1", []byte("create"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := app.CreateInvoice{Tenant: f.tenant, Customer: invoice.Customer{Name: "Ada", Email: "ada@example.com"}, Currency: "EUR",
		Idempotency: key}
	first, err := f.app.CreateInvoice.Handle(context.Background(), cmd)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	if view, err := first.Result.Invoice(); err != nil || first.Result.Version != 1 || !reflect.DeepEqual(view, app.ViewOf(first.Invoice)) {
		t.Fatalf("first: result %+v (%v), want the view of the invoice created", first.Result, err)
	}
	_, err = f.app.CreateInvoice.Handle(context.Background(), cmd)
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || !bytes.Equal(replayed.Result.View, first.Result.View) || replayed.Result.ID != first.Result.ID {
		t.Fatalf("retry: %v, want the first result", err)
	}
	wantTypes(t, f.eventTypes(), invoice.TypeCreated)
	if _, err := app.NewIdempotentRequest("with space", nil); !errors.Is(err, app.ErrInvalidIdempotencyKey) {
		t.Fatalf("a key with a space: %v, want ErrInvalidIdempotencyKey", err)
	}
}

func TestAddAndRemoveLine(t *testing.T) {
	f := newFixture(t)
	inv := f.create(t)
	ctx := context.Background()
	changed, line, err := f.app.AddLine.Handle(ctx, app.AddLine{Tenant: f.tenant, InvoiceID: inv.ID(),
		Line: invoice.LineInput{Description: "Support", Quantity: 1, UnitAmount: 100}})
	if err != nil || changed.Invoice.LineCount() != 2 || changed.Invoice.Lines()[1].ID != line {
		t.Fatalf("add line: %v, %d lines", err, changed.Invoice.LineCount())
	}
	// A stale If-Match changes nothing.
	_, err = f.app.RemoveLine.Handle(ctx, app.RemoveLine{Tenant: f.tenant, InvoiceID: inv.ID(), LineID: line, IfMatch: app.IfVersion(1)})
	if !errors.Is(err, app.ErrVersionMismatch) {
		t.Fatalf("remove with a stale version: %v, want ErrVersionMismatch", err)
	}
	removed, err := f.app.RemoveLine.Handle(ctx, app.RemoveLine{Tenant: f.tenant, InvoiceID: inv.ID(), LineID: line, IfMatch: app.IfVersion(2)})
	if err != nil || removed.LineCount() != 1 || removed.Version() != 3 {
		t.Fatalf("remove: %v, %d lines at version %d", err, removed.LineCount(), removed.Version())
	}
	wantTypes(t, f.eventTypes(), invoice.TypeCreated, invoice.TypeLineAdded, invoice.TypeLineRemoved)
}

func TestIssueInvoiceTakesGaplessNumbers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	empty, err := f.app.CreateInvoice.Handle(ctx, app.CreateInvoice{Tenant: f.tenant,
		Customer: invoice.Customer{Name: "Ada", Email: "ada@example.com"}, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.IssueInvoice.Handle(ctx, app.IssueInvoice{Tenant: f.tenant, InvoiceID: empty.Invoice.ID()}); !errors.Is(err, invoice.ErrEmptyInvoice) {
		t.Fatalf("issue of an empty invoice: %v, want ErrEmptyInvoice", err)
	}
	a, b := f.issue(t, f.create(t).ID()), f.issue(t, f.create(t).ID())
	if a.Number() != "INV-2031-000001" || b.Number() != "INV-2031-000002" {
		t.Fatalf("numbers %s, %s; want INV-2031-000001, -000002", a.Number(), b.Number())
	}
	if _, err := f.app.IssueInvoice.Handle(ctx, app.IssueInvoice{Tenant: f.tenant, InvoiceID: a.ID()}); !errors.Is(err, invoice.ErrInvalidTransition) {
		t.Fatalf("second issue: %v, want ErrInvalidTransition", err)
	}
	if c := f.issue(t, f.create(t).ID()); c.Number() != "INV-2031-000003" {
		t.Fatalf("number after failed issues %s, want INV-2031-000003", c.Number())
	}
}

func TestPayInvoice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv := f.issue(t, f.create(t).ID())
	usd := "USD"
	_, err := f.app.PayInvoice.Handle(ctx, app.PayInvoice{Tenant: f.tenant, InvoiceID: inv.ID(), Amount: 100, Currency: &usd, Reference: "p-0"})
	if !errors.Is(err, kernel.ErrCurrencyMismatch) {
		t.Fatalf("pay in USD: %v, want ErrCurrencyMismatch", err)
	}
	pay := app.PayInvoice{Tenant: f.tenant, InvoiceID: inv.ID(), Amount: 1200, Reference: "p-1"}
	paid, err := f.app.PayInvoice.Handle(ctx, pay)
	if err != nil || paid.Invoice.Status() != invoice.StatusPaid {
		t.Fatalf("pay: %v", err)
	}
	// A repeated payment changes nothing and stores no result.
	pay.Idempotency = &app.IdempotentRequest{Key: "k", Fingerprint: []byte("p-1")}
	again, err := f.app.PayInvoice.Handle(ctx, pay)
	if err != nil || again.Invoice.Version() != paid.Invoice.Version() || !again.Result.IsZero() {
		t.Fatalf("repeated payment: %v, version %d, result %+v", err, again.Invoice.Version(), again.Result)
	}
	wantTypes(t, f.eventTypes(), invoice.TypeCreated, invoice.TypeIssued, invoice.TypePaymentRecorded, invoice.TypePaid)
}

func TestVoidInvoice(t *testing.T) {
	f := newFixture(t)
	inv := f.issue(t, f.create(t).ID())
	voided, err := f.app.VoidInvoice.Handle(context.Background(), app.VoidInvoice{Tenant: f.tenant, InvoiceID: inv.ID(), Reason: "sent twice"})
	if err != nil || voided.Invoice.Status() != invoice.StatusVoid || voided.Invoice.VoidReason() != "sent twice" {
		t.Fatalf("void: %v", err)
	}
	_, err = f.app.VoidInvoice.Handle(context.Background(), app.VoidInvoice{Tenant: f.tenant, InvoiceID: inv.ID(), Reason: "again"})
	if !errors.Is(err, invoice.ErrInvalidTransition) {
		t.Fatalf("void again: %v, want ErrInvalidTransition", err)
	}
}

func TestReads(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	older, newer := f.create(t), f.create(t)
	got, err := f.app.GetInvoice.Handle(ctx, app.GetInvoice{Tenant: f.tenant, InvoiceID: older.ID()})
	if err != nil || got.ID() != older.ID() {
		t.Fatalf("get: %v", err)
	}
	if _, err := f.app.GetInvoice.Handle(ctx, app.GetInvoice{Tenant: kernel.TenantID(invoice.NewID()), InvoiceID: older.ID()}); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("another tenant's get: %v, want ErrNotFound", err)
	}

	page, err := f.app.ListInvoices.Handle(ctx, app.ListInvoices{Tenant: f.tenant, Limit: 1})
	if err != nil || len(page.Invoices) != 1 || !page.HasMore || page.Invoices[0].ID != newer.ID() || page.Invoices[0].LineCount != 1 {
		t.Fatalf("list: %v, %+v", err, page)
	}
	if _, err := f.app.ListInvoices.Handle(ctx, app.ListInvoices{Tenant: f.tenant, Limit: app.MaxListLimit + 1}); !errors.Is(err, app.ErrInvalidLimit) {
		t.Fatalf("list over the limit: %v, want ErrInvalidLimit", err)
	}
	stranger := invoice.NewID()
	_, err = f.app.ListInvoices.Handle(ctx, app.ListInvoices{Tenant: f.tenant, StartingAfter: &stranger})
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Code != app.ErrInvalidCursor.Code || fe.Field != "starting_after" {
		t.Fatalf("list after an unknown invoice: %v, want ErrInvalidCursor at starting_after", err)
	}

	lines, err := f.app.ListLines.Handle(ctx, app.ListLines{Tenant: f.tenant, InvoiceID: older.ID()})
	if err != nil || len(lines.Lines) != 1 || lines.HasMore {
		t.Fatalf("lines: %v, %+v", err, lines)
	}
	history, err := f.app.InvoiceEvents.Handle(ctx, app.InvoiceEvents{Tenant: f.tenant, InvoiceID: older.ID(), After: 2})
	if err != nil || len(history.Events) != 1 || history.Events[0].Version != 3 {
		t.Fatalf("history: %v, %+v", err, history)
	}
	if _, err := f.app.InvoiceEvents.Handle(ctx, app.InvoiceEvents{Tenant: f.tenant, InvoiceID: older.ID(), After: -1}); !errors.Is(err, app.ErrInvalidCursor) {
		t.Fatalf("history after -1: %v, want ErrInvalidCursor", err)
	}
}

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key, tenant, err := f.app.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "globex"})
	if err != nil || tenant == f.tenant {
		t.Fatalf("create key: %v, tenant %s", err, tenant)
	}
	if got, err := f.app.Authenticate.Handle(ctx, app.Authenticate{Key: key}); err != nil || got != tenant {
		t.Fatalf("authenticate: %v, %s; want %s", err, got, tenant)
	}
	for _, bad := range []string{"", "inv_unknown", key + "x", "Bearer " + key} {
		if _, err := f.app.Authenticate.Handle(ctx, app.Authenticate{Key: bad}); !errors.Is(err, app.ErrUnauthorized) {
			t.Errorf("authenticate %q: %v, want ErrUnauthorized", bad, err)
		}
	}
	if _, _, err := f.app.CreateAPIKey.Handle(ctx, app.CreateAPIKey{TenantName: "  "}); !errors.Is(err, app.ErrInvalidTenant) {
		t.Fatalf("blank tenant: %v, want ErrInvalidTenant", err)
	}
}
