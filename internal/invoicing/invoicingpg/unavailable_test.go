package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestUnreachableDatabaseIsUnavailable: a server that refuses connections
// makes every port method fail with app.ErrUnavailable, which callers may
// retry, not with an internal error.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+addr+"/invoicing?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	ctx := context.Background()
	tenant, id := kernel.TenantID(uuid.New()), invoice.ID(uuid.New())
	invoices, keys, events := invoicingpg.NewInvoices(pool), invoicingpg.NewAPIKeys(pool), invoicingpg.NewEvents(pool)
	calls := map[string]func() error{
		"Invoices.Get":   func() error { _, err := invoices.Get(ctx, tenant, id); return err },
		"Invoices.List":  func() error { _, err := invoices.List(ctx, tenant, app.ListFilter{}); return err },
		"Invoices.Lines": func() error { _, err := invoices.Lines(ctx, tenant, id, app.LineFilter{}); return err },
		"Invoices.Update": func() error {
			_, err := invoices.Update(ctx, tenant, id, app.ChangeOptions{}, func(context.Context, *invoice.Invoice, app.Tx) (app.Result, error) { return app.Result{}, nil })
			return err
		},
		"APIKeys.Tenant": func() error { _, err := keys.Tenant(ctx, []byte("hash")); return err },
		"APIKeys.Create": func() error { _, err := keys.Create(ctx, "acme", []byte("hash")); return err },
		"Events.Feed":    func() error { _, err := events.Feed(ctx, tenant, app.FeedFilter{Limit: 10}); return err },
		"Events.History": func() error { _, err := events.History(ctx, tenant, id, app.HistoryFilter{}); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, app.ErrUnavailable) {
			t.Errorf("%s with the server refusing connections: %v, want app.ErrUnavailable", name, err)
		}
	}
	a := app.New(invoices, keys, events, microClock{})
	_, err = a.CreateInvoice.Handle(ctx, app.CreateInvoice{
		Tenant:   tenant,
		Customer: invoice.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		Currency: "EUR",
		Lines:    []invoice.LineInput{{Description: "Consulting", Quantity: 1, UnitAmount: 300}},
	})
	if !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Invoices.Add with the server refusing connections: %v, want app.ErrUnavailable", err)
	}
}

// TestTerminatedSessionIsUnavailable: when the server ends a pooled session
// (pg_terminate_backend, as a restart or failover does), the next statement
// on it fails with app.ErrUnavailable.
func TestTerminatedSessionIsUnavailable(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	// One session, handed out without a liveness ping, so the statement
	// meets the terminated session instead of a fresh one.
	cfg.MaxConns = 1
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var pid uint32
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}

	_, err = invoicingpg.NewInvoices(pool).Get(ctx, kernel.TenantID(uuid.New()), invoice.ID(uuid.New()))
	if !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("Get on a terminated session: %v, want app.ErrUnavailable", err)
	}
}

// TestOtherFailuresAreNotUnavailable: answers of a reachable database, and a
// caller that gave up, are not an outage.
func TestOtherFailuresAreNotUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.repo.Get(ctx, e.tenant, invoice.ID(uuid.New())); !errors.Is(err, invoice.ErrNotFound) || errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Get of a missing invoice: %v, want invoice.ErrNotFound alone", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.repo.Get(cancelled, e.tenant, invoice.ID(uuid.New())); err == nil || errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Get with a cancelled context: %v, want an error other than app.ErrUnavailable", err)
	}
}

// TestUnavailableClassification checks the classification of errors the
// tests above cannot provoke on a shared server.
func TestUnavailableClassification(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin_shutdown
		{&pgconn.PgError{Code: "57P02"}, true}, // crash_shutdown
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot_connect_now
		{&pgconn.PgError{Code: "08006"}, true}, // connection_failure
		{&pgconn.PgError{Code: "53300"}, true}, // too_many_connections
		{&pgconn.PgError{Code: "25006"}, true}, // read_only_sql_transaction: a standby
		{fmt.Errorf("postgres: get: %w", &pgconn.PgError{Code: "57P01"}), true},
		{context.DeadlineExceeded, true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique_violation
		{&pgconn.PgError{Code: "22P02"}, false}, // invalid_text_representation
		{&pgconn.PgError{Code: "57014"}, false}, // query_canceled
		{context.Canceled, false},
		{errors.New("something else"), false},
		{nil, false},
	} {
		err := invoicingpg.Unavailable(c.err)
		if got := errors.Is(err, app.ErrUnavailable); got != c.want {
			t.Errorf("Unavailable(%v) marked %t, want %t", c.err, got, c.want)
		}
		if c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("Unavailable(%v) lost the cause: %v", c.err, err)
		}
	}
}
