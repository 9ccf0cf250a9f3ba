package invoicingpg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// Keys are per tenant, and so is the lock that makes a concurrent retry a 409:
// while tenant A's request holds key "k" in flight, A's other request with "k"
// is ErrIdempotencyKeyInUse, but tenant B's request with "k" goes ahead.
func TestIdempotencyKeyInFlightIsPerTenant(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	e, tracer := newEnvAfterWrites(t)
	other := e.newTenant(t, "globex")
	invA, invA2, invB := e.createOpen(t, e.tenant), e.createOpen(t, e.tenant), e.createOpen(t, other)

	tracer.arm(func() { // the first write once armed waits before COMMIT, holding its key
		close(entered)
		<-release
	})
	done := make(chan error, 1)
	go func() {
		_, err := e.app.VoidInvoice.Handle(context.Background(), voidCmd(e, invA, keyed("k", "void A")))
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

	ctx := context.Background()
	if _, err := e.app.VoidInvoice.Handle(ctx, voidCmd(e, invA2, keyed("k", "void A2"))); !errors.Is(err, app.ErrIdempotencyKeyInUse) {
		t.Fatalf("tenant A's second request with its in-flight key = %v, want ErrIdempotencyKeyInUse", err)
	}
	key := keyed("k", "void A") // even the same fingerprint: B's key is B's
	if changed, err := e.app.VoidInvoice.Handle(ctx, app.VoidInvoice{Tenant: other, InvoiceID: invB.ID(), Reason: "duplicate", Idempotency: key}); err != nil || changed.Result.IsZero() {
		t.Fatalf("tenant B's request with the key A holds = %v (stored %+v), want it made", err, changed.Result)
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
