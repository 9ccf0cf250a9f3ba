package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/infra/postgres"
)

// keyed returns ctx carrying an Idempotency for key whose response is the
// invoice's version, and the Idempotency.
func keyed(key, fingerprint string) (context.Context, *app.Idempotency) {
	idem, err := app.NewIdempotency(key, []byte(fingerprint), func(inv *invoice.Invoice) (app.StoredResponse, error) {
		body := fmt.Sprintf("%s v%d", inv.ID(), inv.Version())
		return app.StoredResponse{Status: 200, Header: map[string]string{"ETag": "x"}, Body: []byte(body)}, nil
	})
	if err != nil {
		panic(err)
	}
	return app.WithIdempotency(context.Background(), idem), idem
}

func voidCmd(e *env, inv *invoice.Invoice) app.VoidInvoice {
	return app.VoidInvoice{Tenant: e.tenant, InvoiceID: inv.ID(), Reason: "duplicate"}
}

// The response is stored in the change's transaction: a failure just before
// COMMIT leaves neither, and a retry then makes the change and stores it.
func TestIdempotentResponseCommitsWithTheChange(t *testing.T) {
	t.Parallel()
	fail := errors.New("injected failure before commit")
	var armed bool
	e := newEnv(t, postgres.WithBeforeCommit(func(context.Context) error {
		if armed {
			return fail
		}
		return nil
	}))
	inv := e.createOpen(t, e.tenant)
	before := e.get(t, inv.ID())

	armed = true
	ctx, idem := keyed("void-1", "void")
	if _, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv)); !errors.Is(err, fail) {
		t.Fatalf("void = %v, want the injected failure", err)
	}
	if idem.Stored != nil || e.count(t, `SELECT count(*) FROM idempotency_keys`) != 0 {
		t.Fatal("a rolled-back change left its response stored")
	}
	assertSameInvoice(t, e.get(t, inv.ID()), before)

	armed = false
	ctx, idem = keyed("void-1", "void")
	voided, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s v%d", inv.ID(), voided.Version())
	if idem.Stored == nil || string(idem.Stored.Body) != want {
		t.Fatalf("stored %+v, want body %q", idem.Stored, want)
	}

	ctx, _ = keyed("void-1", "void")
	_, err = e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv))
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || string(replayed.Response.Body) != want || replayed.Response.Header["ETag"] != "x" {
		t.Fatalf("retry = %v, want the stored response replayed", err)
	}
}

// A request whose key is held by an in-flight transaction gets
// ErrIdempotencyKeyInUse at once, and changes nothing.
func TestIdempotencyKeyInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inv := e.createOpen(t, e.tenant)
	ctx := context.Background()

	// Another request holding the key: its transaction holds the key's lock.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || ':' || $2, 0))`,
		e.tenant.String(), "void-1"); err != nil {
		t.Fatal(err)
	}
	kctx, _ := keyed("void-1", "void")
	if _, err := e.app.VoidInvoice.Handle(kctx, voidCmd(e, inv)); !errors.Is(err, app.ErrIdempotencyKeyInUse) {
		t.Fatalf("void while the key is in flight = %v, want ErrIdempotencyKeyInUse", err)
	}
	if got := e.get(t, inv.ID()); got.Status() != invoice.StatusOpen {
		t.Fatalf("status %s, want open", got.Status())
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.VoidInvoice.Handle(kctx, voidCmd(e, inv)); err != nil {
		t.Fatalf("void once the key is free: %v", err)
	}
}

// Keys expire after 24 hours: an expired key is ignored and replaced, and
// each write that stores a key prunes a few expired ones.
func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, headers, body, created_at)
SELECT $1, 'old-' || n, '\x00', 200, '{}', '', now() - interval '25 hours' FROM generate_series(1, 20) n`, e.tenant.String()); err != nil {
		t.Fatal(err)
	}
	inv := e.createOpen(t, e.tenant)
	kctx, idem := keyed("old-1", "a different request, long ago")
	if _, err := e.app.VoidInvoice.Handle(kctx, voidCmd(e, inv)); err != nil || idem.Stored == nil {
		t.Fatalf("void with an expired key = %v (stored %v), want a fresh change", err, idem.Stored)
	}
	if n := e.count(t, `SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`); n >= 19 {
		t.Fatalf("%d expired keys left of 20, want some pruned", n)
	}
	if n := e.count(t, `SELECT count(*) FROM idempotency_keys WHERE key = 'old-1' AND created_at > now() - interval '1 hour'`); n != 1 {
		t.Fatalf("the expired key was not replaced by the new response")
	}
}
