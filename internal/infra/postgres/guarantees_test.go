package postgres_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/infra/postgres"
)

// Keys are per tenant, and so is the lock that makes a concurrent retry a 409:
// while tenant A's request holds key "k" in flight, A's other request with "k"
// is ErrIdempotencyKeyInUse, but tenant B's request with "k" goes ahead.
func TestIdempotencyKeyInFlightIsPerTenant(t *testing.T) {
	t.Parallel()
	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, postgres.WithBeforeCommit(func(context.Context) error {
		if hold.CompareAndSwap(true, false) { // the first write once armed waits, holding its key
			close(entered)
			<-release
		}
		return nil
	}))
	other := e.newTenant(t, "globex")
	invA, invA2, invB := e.createOpen(t, e.tenant), e.createOpen(t, e.tenant), e.createOpen(t, other)

	hold.Store(true)
	done := make(chan error, 1)
	go func() {
		ctx, _ := keyed("k", "void A")
		_, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, invA))
		done <- err
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("tenant A's void ended before commit: %v", err)
	}
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	ctx, _ := keyed("k", "void A2")
	if _, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, invA2)); !errors.Is(err, app.ErrIdempotencyKeyInUse) {
		t.Fatalf("tenant A's second request with its in-flight key = %v, want ErrIdempotencyKeyInUse", err)
	}
	ctx, idem := keyed("k", "void A") // even the same fingerprint: B's key is B's
	if _, err := e.app.VoidInvoice.Handle(ctx, app.VoidInvoice{Tenant: other, InvoiceID: invB.ID(), Reason: "duplicate"}); err != nil || idem.Stored == nil {
		t.Fatalf("tenant B's request with the key A holds = %v (stored %v), want it made", err, idem.Stored)
	}

	close(release)
	released = true
	if err := <-done; err != nil {
		t.Fatalf("tenant A's void: %v", err)
	}
	if n := e.count(t, `SELECT count(*) FROM idempotency_keys WHERE key = 'k'`); n != 2 {
		t.Fatalf("%d stored responses of key k, want 2 (one per tenant)", n)
	}
}
