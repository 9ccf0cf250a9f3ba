package invoicingpg_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// keyed returns the IdempotentRequest of key.
func keyed(key, fingerprint string) *app.IdempotentRequest {
	req, err := app.NewIdempotentRequest(key, []byte(fingerprint))
	if err != nil {
		panic(err)
	}
	return req
}

func voidCmd(e *env, inv *invoice.Invoice, key *app.IdempotentRequest) app.VoidInvoice {
	return app.VoidInvoice{Tenant: e.tenant, InvoiceID: inv.ID(), Reason: "duplicate", Idempotency: key}
}

// The result is stored in the change's transaction: a failure just before
// COMMIT leaves neither, and a retry then makes the change and stores it.
func TestIdempotentResponseCommitsWithTheChange(t *testing.T) {
	t.Parallel()
	e, tracer := newEnvAfterWrites(t)
	inv := e.createOpen(t, e.tenant)
	before := e.get(t, inv.ID())

	changed, err := e.app.VoidInvoice.Handle(tracer.failNext(t), voidCmd(e, inv, keyed("void-1", "void")))
	if !errors.Is(err, context.Canceled) || !tracer.sawWrites.Load() {
		t.Fatalf("void = %v (after the writes: %v), want the failure injected before COMMIT", err, tracer.sawWrites.Load())
	}
	if !changed.Result.IsZero() || e.count(t, `SELECT count(*) FROM idempotency_keys`) != 0 {
		t.Fatal("a rolled-back change left its result stored")
	}
	assertSameInvoice(t, e.get(t, inv.ID()), before)
	// The cancellation closed the connection; the server ends its session,
	// and with it the key's lock, a moment later. A retry before that is a
	// 409 idempotency_key_in_use, as for any request still in flight.
	waitNoAdvisoryLocks(t, e)

	changed, err = e.app.VoidInvoice.Handle(context.Background(), voidCmd(e, inv, keyed("void-1", "void")))
	if err != nil {
		t.Fatal(err)
	}
	// The use case's result, made before the write from the invoice it
	// changed, is the invoice as committed.
	view, err := changed.Result.Invoice()
	if err != nil || changed.Result.ID != [16]byte(inv.ID()) || changed.Result.Version != changed.Invoice.Version() ||
		!reflect.DeepEqual(view, app.ViewOf(changed.Invoice)) {
		t.Fatalf("stored %+v (%v), want the voided invoice's view", changed.Result, err)
	}

	_, err = e.app.VoidInvoice.Handle(context.Background(), voidCmd(e, inv, keyed("void-1", "void")))
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || !reflect.DeepEqual(replayed.Result, changed.Result) || replayed.Legacy != nil {
		t.Fatalf("retry = %v, want the stored result replayed", err)
	}
}

// A key stored before results holds the caller's own bytes: a retry of its
// request replays them as they are.
func TestIdempotencyKeyStoredBeforeResultsReplays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inv := e.createOpen(t, e.tenant)
	framed := "200\nETag: \"3\"\n\n{\"a\":1}"
	if _, err := e.pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response) VALUES ($1, 'old', 'void', $2)`,
		e.tenant.String(), []byte(framed)); err != nil {
		t.Fatal(err)
	}
	_, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv, keyed("old", "void")))
	var replayed *app.Replayed
	if !errors.As(err, &replayed) || string(replayed.Legacy) != framed || !replayed.Result.IsZero() {
		t.Fatalf("retry of a request answered before results = %v, want its bytes replayed", err)
	}
	if got := e.get(t, inv.ID()); got.Status() != invoice.StatusOpen {
		t.Fatalf("status %s after a replay, want open", got.Status())
	}
	// A row holds a result or the bytes of before, never both nor neither.
	if _, err := e.pool.Exec(ctx, `UPDATE idempotency_keys SET resource_kind = 'invoice' WHERE key = 'old'`); err == nil {
		t.Fatal("a row with bytes and part of a result was stored")
	}
	if _, err := e.pool.Exec(ctx, `UPDATE idempotency_keys SET response = NULL WHERE key = 'old'`); err == nil {
		t.Fatal("a row with no answer was stored")
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
	key := keyed("void-1", "void")
	if _, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv, key)); !errors.Is(err, app.ErrIdempotencyKeyInUse) {
		t.Fatalf("void while the key is in flight = %v, want ErrIdempotencyKeyInUse", err)
	}
	if got := e.get(t, inv.ID()); got.Status() != invoice.StatusOpen {
		t.Fatalf("status %s, want open", got.Status())
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv, key)); err != nil {
		t.Fatalf("void once the key is free: %v", err)
	}
}

// Keys expire after 24 hours: an expired key is ignored and replaced, and
// each write that stores a key prunes a few expired ones.
func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response, created_at)
SELECT $1, 'old-' || n, '\x00', '', now() - interval '25 hours' FROM generate_series(1, 20) n`, e.tenant.String()); err != nil {
		t.Fatal(err)
	}
	inv := e.createOpen(t, e.tenant)
	changed, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, inv, keyed("old-1", "a different request, long ago")))
	if err != nil || changed.Result.IsZero() {
		t.Fatalf("void with an expired key = %v (stored %+v), want a fresh change", err, changed.Result)
	}
	if n := e.count(t, `SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`); n >= 19 {
		t.Fatalf("%d expired keys left of 20, want some pruned", n)
	}
	if n := e.count(t, `SELECT count(*) FROM idempotency_keys WHERE key = 'old-1' AND created_at > now() - interval '1 hour'`); n != 1 {
		t.Fatalf("the expired key was not replaced by the new response")
	}
}

// waitNoAdvisoryLocks waits until no session of e's database holds an
// advisory lock (the idempotency keys' locks are advisory), at most 10 s.
func waitNoAdvisoryLocks(t *testing.T, e *env) {
	t.Helper()
	const q = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	for deadline := time.Now().Add(10 * time.Second); e.count(t, q) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled change's session still holds its key's lock after 10s")
		}
	}
}
