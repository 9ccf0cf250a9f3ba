package invoicingpg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// env is one test's database, repositories and use cases.
type env struct {
	pool    *pgxpool.Pool
	repo    *invoicingpg.Invoices
	app     *app.App
	keys    *invoicingpg.APIKeys
	tenant  kernel.TenantID
	commits *atomic.Int64 // after-commit hook calls
}

// newEnv returns an env on a fresh database with one tenant. Times come from
// the system clock truncated to microseconds, as PostgreSQL stores them, so
// invoices built in memory compare equal to what is read back.
func newEnv(t testing.TB, opts ...invoicingpg.InvoicesOption) *env {
	t.Helper()
	return newEnvOn(t, pgtest.New(t), opts...)
}

// newEnvOn is newEnv on pool, a fresh database's.
func newEnvOn(t testing.TB, pool *pgxpool.Pool, opts ...invoicingpg.InvoicesOption) *env {
	t.Helper()
	e := &env{pool: pool, keys: invoicingpg.NewAPIKeys(pool), commits: new(atomic.Int64)}
	opts = append([]invoicingpg.InvoicesOption{invoicingpg.WithAfterCommit(func() { e.commits.Add(1) })}, opts...)
	e.repo = invoicingpg.NewInvoices(pool, opts...)
	e.app = app.New(e.repo, e.keys, invoicingpg.NewEvents(pool), microClock{})
	e.tenant = e.newTenant(t, "acme")
	return e
}

func (e *env) newTenant(t testing.TB, name string) kernel.TenantID {
	t.Helper()
	_, tenant, err := e.app.CreateAPIKey.Handle(context.Background(), app.CreateAPIKey{TenantName: name})
	if err != nil {
		t.Fatalf("create tenant %s: %v", name, err)
	}
	return tenant
}

type microClock struct{}

func (microClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// fixedClock always returns t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// create stores a draft with two lines totalling 1,200 (1,000 + 20% tax).
func (e *env) create(t testing.TB, tenant kernel.TenantID) *invoice.Invoice {
	t.Helper()
	inv, err := e.app.CreateInvoice.Handle(context.Background(), app.CreateInvoice{
		Tenant:   tenant,
		Customer: invoice.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		Currency: "EUR",
		DueDate:  time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC),
		Lines: []invoice.LineInput{
			{Description: "Consulting", Quantity: 2, UnitAmount: 300, TaxRateBPS: 2000},
			{Description: "Support", Quantity: 1, UnitAmount: 400, TaxRateBPS: 2000},
		},
	})
	if err != nil {
		t.Fatalf("create invoice: %v", err)
	}
	return inv.Invoice
}

// createOpen stores and issues an invoice (total 1,200).
func (e *env) createOpen(t testing.TB, tenant kernel.TenantID) *invoice.Invoice {
	t.Helper()
	changed, err := e.app.IssueInvoice.Handle(context.Background(), app.IssueInvoice{Tenant: tenant, InvoiceID: e.create(t, tenant).ID()})
	inv := changed.Invoice
	if err != nil {
		t.Fatalf("issue invoice: %v", err)
	}
	return inv
}

func (e *env) pay(tenant kernel.TenantID, id invoice.ID, amount int64, ref string) (*invoice.Invoice, error) {
	return e.payCtx(context.Background(), tenant, id, amount, ref)
}

func (e *env) payCtx(ctx context.Context, tenant kernel.TenantID, id invoice.ID, amount int64, ref string) (*invoice.Invoice, error) {
	changed, err := e.app.PayInvoice.Handle(ctx, app.PayInvoice{Tenant: tenant, InvoiceID: id, Amount: amount, Reference: ref})
	return changed.Invoice, err
}

func (e *env) get(t *testing.T, id invoice.ID) *invoice.Invoice {
	t.Helper()
	inv, err := e.repo.Get(context.Background(), e.tenant, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return inv
}

// count returns the result of a count(*) query.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// outboxRow is a stored event.
type outboxRow struct {
	EventID, Tenant, Aggregate string
	Version                    int64
	Type                       string
	Payload                    map[string]any
	OccurredAt                 time.Time
}

// outbox returns the outbox rows of aggregate id in sequence order.
func (e *env) outbox(t *testing.T, id invoice.ID) []outboxRow {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT event_id::text, tenant_id::text, aggregate_id::text,
		aggregate_version, event_type, payload, occurred_at FROM outbox WHERE aggregate_id = $1 ORDER BY sequence`, id.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		var payload []byte
		if err := rows.Scan(&r.EventID, &r.Tenant, &r.Aggregate, &r.Version, &r.Type, &payload, &r.OccurredAt); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &r.Payload); err != nil {
			t.Fatalf("outbox payload %s is not JSON: %v", payload, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// view is every observable field of an invoice, for comparison.
type view struct {
	ID, Tenant, Number, Status, Currency string
	Customer                             invoice.Customer
	DueDate, IssuedAt, PaidAt, VoidedAt  string
	VoidReason                           string
	Version                              int64
	CreatedAt, UpdatedAt                 string
	Subtotal, Tax, Total, Paid, Due      int64
	Lines                                []string
	LineCount                            int
	Payments                             []string
}

func viewOf(inv *invoice.Invoice) view {
	v := viewOfView(app.ViewOf(inv))
	v.Tenant = inv.Tenant().String()
	return v
}

// viewOfView is viewOf for what a list shows, which has no tenant.
func viewOfView(inv app.InvoiceView) view {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	v := view{
		ID: inv.ID.String(), Number: inv.Number, Status: string(inv.Status),
		Currency: string(inv.Currency), Customer: inv.Customer, DueDate: ts(inv.DueDate),
		IssuedAt: ts(inv.IssuedAt), PaidAt: ts(inv.PaidAt), VoidedAt: ts(inv.VoidedAt),
		VoidReason: inv.VoidReason, Version: inv.Version, CreatedAt: ts(inv.CreatedAt), UpdatedAt: ts(inv.UpdatedAt),
		Subtotal: inv.Totals.Subtotal.Amount(), Tax: inv.Totals.Tax.Amount(), Total: inv.Totals.Total.Amount(),
		Paid: inv.Totals.AmountPaid.Amount(), Due: inv.Totals.AmountDue.Amount(), LineCount: inv.LineCount,
	}
	for _, l := range inv.Lines {
		v.Lines = append(v.Lines, fmt.Sprintf("%s %q %d×%d@%dbps=%d+%d", l.ID, l.Description, l.Quantity,
			l.UnitAmount.Amount(), l.TaxRateBPS, l.Amount.Amount(), l.Tax.Amount()))
	}
	for _, p := range inv.Payments {
		v.Payments = append(v.Payments, fmt.Sprintf("%s %d %s %q %s", p.ID, p.Amount.Amount(), p.Amount.Currency(), p.Reference, ts(p.ReceivedAt)))
	}
	return v
}

// assertListed checks that a list shows inv as it is, with its first
// app.ListedLines lines.
func assertListed(t *testing.T, got app.InvoiceView, want *invoice.Invoice) {
	t.Helper()
	w := app.ViewOf(want)
	w.Lines = w.Lines[:min(len(w.Lines), app.ListedLines)]
	if g, w := viewOfView(got), viewOfView(w); !reflect.DeepEqual(g, w) {
		t.Fatalf("listed invoice differs:\n got  %+v\n want %+v", g, w)
	}
}

func assertSameInvoice(t *testing.T, got, want *invoice.Invoice) {
	t.Helper()
	if g, w := viewOf(got), viewOf(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("invoices differ:\n got  %+v\n want %+v", g, w)
	}
}
